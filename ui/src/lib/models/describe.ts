// How local models and the built-in engine read in Settings → Models: sizes, parameter counts,
// where a file comes from, what the engine is doing, the idle choices.
import type { EngineStatus, ModelSource } from "../types";

/** Bytes as people read them (binary units, like the core's `memory::human`). */
export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** A parameter count: 135M, 7.6B. */
export function parameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M`;
  return `${n}`;
}

export function source(s: ModelSource): string {
  switch (s) {
    case "file":
      return "your file";
    case "ollama":
      return "Ollama's, used in place";
    case "lm_studio":
      return "LM Studio's, used in place";
    case "download":
      return "downloaded";
  }
}

/**
 * The engine's state in a few words; while it loads, what it is doing (the core's line:
 * starting, reading the model with how much is in, preparing memory) and, from 2 s on, for
 * how long (`now`, ms).
 */
export function engineLine(s: EngineStatus, now = 0): string {
  const model = s.model ? ` ${s.model}` : "";
  switch (s.state) {
    case "stopped":
      // Without its program (being prepared, not installed) the message says so.
      return s.binary || !s.message ? "Not running: it starts with the first message to a local model." : s.message;
    case "loading": {
      const line = s.message ?? `Loading${model}…`;
      const secs = now && s.since ? Math.floor((now - s.since) / 1000) : 0;
      return secs >= 2 ? `${line} (${secs} s)` : line;
    }
    case "ready":
      return `Running${model}.`;
    case "failed":
      return s.message ?? "The last start failed.";
  }
}

/** The idle times offered (seconds; 0 = never unload). */
export const IDLE_CHOICES: { seconds: number; label: string }[] = [
  { seconds: 60, label: "after 1 minute" },
  { seconds: 300, label: "after 5 minutes" },
  { seconds: 600, label: "after 10 minutes" },
  { seconds: 1800, label: "after 30 minutes" },
  { seconds: 3600, label: "after 1 hour" },
  { seconds: 0, label: "never (until Parley quits)" },
];

/** A settings field's text as a number, or null when empty; undefined when not a whole number. */
export function wholeOrNull(text: string): number | null | undefined {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d+$/.test(t)) return undefined;
  return Number(t);
}
