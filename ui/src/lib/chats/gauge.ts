// The composer's context gauge: the core's estimate of what the next request takes of the
// model's context window (`estimate_context`, the same arithmetic that trims requests), shown
// compactly, explained in a tooltip, and turned into a warning before a send that will not fit.
import type { ContextEstimate, WindowSource } from "../types";

/** 1234 → "1.2k", 128000 → "128k", 1048576 → "1M". */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) {
    const k = n / 1000;
    return `${k < 10 ? Math.round(k * 10) / 10 : Math.round(k)}k`;
  }
  const m = n / 1_000_000;
  return `${m < 10 ? Math.round(m * 10) / 10 : Math.round(m)}M`;
}

/** Where the window's figure came from, as a sentence's end. */
export function sourceText(source: WindowSource): string {
  switch (source) {
    case "settings":
      return "your own figure (Settings → Usage → Context windows)";
    case "provider":
      return "the provider's model list";
    case "table":
      return "Parley's table of known models (Settings → Usage → Context windows)";
    case "default":
      return "a cautious default: Parley does not know this model. Set its window in Settings → Usage → Context windows";
  }
}

export type GaugeLevel = "ok" | "near" | "over";

/** How full the request is: over when anything is left out or the draft alone is too long. */
export function level(e: ContextEstimate): GaugeLevel {
  if (e.left_out > 0 || e.draft_too_long) return "over";
  return e.tokens > 0.8 * (e.budget + e.fixed_tokens) ? "near" : "ok";
}

/** The gauge's label: "12k / 128k". */
export function label(e: ContextEstimate): string {
  return `${compact(e.tokens)} / ${compact(e.window)}`;
}

const n = (v: number) => v.toLocaleString("en-US");

/** The tooltip: the figures, what they count and where the window came from. */
export function tooltip(e: ContextEstimate): string {
  const lines = [
    `About ${n(e.tokens)} tokens of ${e.model}'s ${n(e.window)}-token context window would be sent.`,
    `The window's figure comes from ${sourceText(e.source)}.`,
    `Counted: the chat's messages on this branch, the system prompt and tools (${n(e.fixed_tokens)}), and this message with its attachments (${n(e.draft_tokens)}); ${n(e.answer_room)} are kept free for the answer.`,
  ];
  if (e.reported_base != null) lines.push(`Built on the ${n(e.reported_base)} tokens the provider reported for the last answer.`);
  else lines.push("Estimated from the text's size (about three bytes a token).");
  if (e.left_out > 0) lines.push(`The ${n(e.left_out)} oldest messages will be left out (they stay in the chat).`);
  return lines.join("\n");
}

/** A send that needs the person's word first. */
export interface ContextWarning {
  kind: "too-long" | "draft-leaves-out" | "starts-leaving-out";
  text: string;
  advice: string[];
}

/**
 * Whether sending needs a warning first: the message alone is over what the model takes; the
 * message itself pushes older messages out; or the chat stops fitting with this send. A long
 * chat that already slides its window by a turn each time is shown on the gauge, not warned.
 */
export function warningOf(e: ContextEstimate, attachments: number): ContextWarning | null {
  const drop = attachments > 0 ? ["Remove an attachment."] : [];
  if (e.draft_too_long) {
    return {
      kind: "too-long",
      text: `This message alone is about ${n(e.draft_tokens)} tokens; ${e.model} can take about ${n(e.budget)} for a request's messages. It will likely be refused or cut.`,
      advice: [...drop, "Shorten it or split it over several messages.", "Pick a model with a larger context window."],
    };
  }
  const keep = ["Branch from an earlier message into a new chat (its ⋯ menu).", "Start a new chat for this."];
  if (e.left_out_by_draft > 0) {
    return {
      kind: "draft-leaves-out",
      text: `This message is large: sending it leaves out the ${n(e.left_out)} oldest messages of this chat, so ${e.model} will not see them (they stay in the chat).`,
      advice: [...drop, ...keep],
    };
  }
  if (e.left_out > 0 && e.last_left_out === 0) {
    return {
      kind: "starts-leaving-out",
      text: `This chat no longer fits ${e.model}'s context window: the ${n(e.left_out)} oldest messages will be left out of the request (they stay in the chat).`,
      advice: keep,
    };
  }
  return null;
}

/** `run` once `ms` after the last call; `cancel` drops a pending one. */
export function debounce<A extends unknown[]>(run: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const call = (...args: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run(...args);
    }, ms);
  };
  call.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return call;
}
