// Side by side: the models the next message goes to at once (2–4; fewer: an ordinary send),
// chosen in the composer's Compare menu. A send with two or more goes to `compare_models`; the
// answers stream in columns (components/compare/CompareColumns.svelte) and are stored as
// versions of one answer.
import { api } from "../api";
import type { ModelChoice } from "../chats/actions";
import type { Part } from "../types";

export const COMPARE_MAX = 4;

export const compare = $state<{ models: ModelChoice[] }>({ models: [] });

const same = (a: ModelChoice, b: ModelChoice) => a.provider === b.provider && a.model === b.model;

export function isPicked(c: ModelChoice): boolean {
  return compare.models.some((m) => same(m, c));
}

/** Adds or removes a model; at most COMPARE_MAX. Returns false when it could not be added. */
export function toggle(c: ModelChoice): boolean {
  if (isPicked(c)) {
    compare.models = compare.models.filter((m) => !same(m, c));
    return true;
  }
  if (compare.models.length >= COMPARE_MAX) return false;
  compare.models = [...compare.models, c];
  return true;
}

export function clearCompare() {
  compare.models = [];
}

/** Whether the next send goes side by side. */
export function comparing(): boolean {
  return compare.models.length >= 2;
}

/** The composer's send: side by side when two or more models are picked, else to `choice`. */
export function sendOrCompare(id: string, text: string, choice: ModelChoice | null, revision: number, attachments: Part[]): Promise<unknown> {
  if (comparing()) return api.compareModels(id, text, compare.models, revision, attachments);
  return api.sendMessage(id, text, choice?.provider ?? null, choice?.model || null, revision, attachments);
}

/** A column's cost (its tokens are shown with its answer). */
export function columnUsage(u: { input_tokens: number; output_tokens: number } | null | undefined, cost: number | null | undefined): string {
  if (!u) return "tokens not reported";
  if (cost === undefined) return "";
  if (cost === null) return "no price for this model";
  return `cost ${cost < 0.01 ? `$${cost.toPrecision(2)}` : `$${cost.toFixed(2)}`}`;
}
