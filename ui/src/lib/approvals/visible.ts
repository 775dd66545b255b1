// Model-written values made safe to read in an approval dialog: control characters, bidi
// overrides, invisible characters, variation selectors and tag characters are shown as visible
// markers instead of acting on the text around them. Which characters: HIDDEN_RANGES, generated
// from the one Rust table (parley_protocol::visible) that the CLI uses too. Svelte escapes the
// result; this only makes the invisible visible.
import { HIDDEN_RANGES } from "../../bindings";

/** Whether the code point is in the shared table. */
export function isHidden(cp: number): boolean {
  for (const [lo, hi] of HIDDEN_RANGES) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

const marker = (cp: number) => `⟦U+${cp.toString(16).toUpperCase().padStart(4, "0")}⟧`;

export function visible(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += isHidden(cp) ? marker(cp) : ch === "\t" ? "⇥\t" : ch;
  }
  return out;
}

/** True when the text has characters `visible` marks. */
export function hasHidden(s: string): boolean {
  for (const ch of s) if (isHidden(ch.codePointAt(0)!)) return true;
  return false;
}

/** The arguments as fields (key → text) when they are a JSON object, else null. */
export function argumentFields(raw: string): [string, string][] | null {
  try {
    const v = JSON.parse(raw);
    if (!v || typeof v !== "object" || Array.isArray(v)) return null;
    return Object.entries(v).map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x, null, 2)]);
  } catch {
    return null;
  }
}

/** A one-line summary of a call for its card header: its first string argument, cut. */
export function argumentSummary(raw: string): string {
  const f = argumentFields(raw);
  const first = f?.find(([, v]) => v.length > 0)?.[1] ?? raw;
  const line = visible(first.split("\n")[0] ?? "");
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
