// The chat-settings form <-> ChatParams, checked against PARAM_LIMITS: the core's own
// table, generated into the bindings, so the form and the core cannot disagree.
import { PARAM_LIMITS } from "../../bindings";
import type { ReasoningEffort, ChatParams } from "../types";

type Limit = { readonly min: number; readonly min_exclusive: boolean; readonly max: number; readonly integer: boolean; readonly message: string };

/** The limit's sentence when `v` is outside it (or not a number), else null. */
function refuses(l: Limit, v: number): string | null {
  const low = l.min_exclusive ? v > l.min : v >= l.min;
  const ok = Number.isFinite(v) && low && v <= l.max && (!l.integer || Number.isInteger(v));
  return ok ? null : l.message;
}

export type ParamsForm = {
  system: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  reasoning: ReasoningEffort | "";
};

/** The parsed settings, or a sentence saying which field is wrong. */
export function paramsFromForm(f: ParamsForm, base?: ChatParams): ChatParams | string {
  const num = (s: string) => (s.trim() === "" ? null : Number(s.trim().replace(",", ".")));
  const temperature = num(f.temperature);
  const top_p = num(f.topP);
  const max = num(f.maxTokens);
  for (const [v, l] of [[temperature, PARAM_LIMITS.temperature], [top_p, PARAM_LIMITS.top_p], [max, PARAM_LIMITS.max_output_tokens]] as const) {
    const why = v === null ? null : refuses(l, v);
    if (why) return why;
  }
  if (new TextEncoder().encode(f.system).length > PARAM_LIMITS.system_prompt_bytes) return PARAM_LIMITS.system_prompt_message;
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
export function paramsSummary(p: ChatParams | undefined): string {
  if (!p) return "Chat settings";
  const bits: string[] = [];
  if (p.system) bits.push("system prompt");
  if (p.temperature != null) bits.push(`temp ${p.temperature}`);
  if (p.top_p != null) bits.push(`top-p ${p.top_p}`);
  if (p.max_output_tokens != null) bits.push(`max ${p.max_output_tokens}`);
  if (p.reasoning) bits.push(`reasoning ${p.reasoning}`);
  return bits.length ? bits.join(" · ") : "Chat settings";
}
