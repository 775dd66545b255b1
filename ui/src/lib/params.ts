// The chat-settings form <-> SessionParams, with the same limits the core enforces.
import type { ReasoningEffort, SessionParams } from "./types";

export type ParamsForm = {
  system: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  reasoning: ReasoningEffort | "";
};

/** The parsed settings, or a sentence saying which field is wrong. */
export function paramsFromForm(f: ParamsForm, base?: SessionParams): SessionParams | string {
  const num = (s: string) => (s.trim() === "" ? null : Number(s.trim().replace(",", ".")));
  const temperature = num(f.temperature);
  if (temperature !== null && !(temperature >= 0 && temperature <= 2)) return "Temperature must be a number from 0 to 2.";
  const top_p = num(f.topP);
  if (top_p !== null && !(top_p > 0 && top_p <= 1)) return "Top-p must be a number greater than 0 and at most 1.";
  const max = num(f.maxTokens);
  if (max !== null && !(Number.isInteger(max) && max >= 1 && max <= 1_000_000)) return "Max output tokens must be a whole number from 1 to 1,000,000.";
  return {
    workspace: base?.workspace ?? null,
    tools: base?.tools ?? null,
    assistant: base?.assistant ?? null,
    system: f.system.trim() ? f.system : null,
    temperature,
    top_p,
    max_output_tokens: max,
    reasoning: f.reasoning || null,
  };
}

/** A short label for the composer: what differs from the defaults. */
export function paramsSummary(p: SessionParams | undefined): string {
  if (!p) return "Chat settings";
  const bits: string[] = [];
  if (p.system) bits.push("system prompt");
  if (p.temperature != null) bits.push(`temp ${p.temperature}`);
  if (p.top_p != null) bits.push(`top-p ${p.top_p}`);
  if (p.max_output_tokens != null) bits.push(`max ${p.max_output_tokens}`);
  if (p.reasoning) bits.push(`reasoning ${p.reasoning}`);
  return bits.length ? bits.join(" · ") : "Chat settings";
}
