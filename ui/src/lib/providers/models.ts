// Model lists as the picker and the settings show them. Pure functions, unit-tested.
import type { ModelInfo, ProviderInfo } from "../types";

/** "128k context · tools · vision · reasoning" — only what the provider said. */
export function capabilityText(m: ModelInfo): string {
  const bits: string[] = [];
  if (m.context_window) bits.push(`${formatTokens(m.context_window)} context`);
  if (m.tools) bits.push("tools");
  if (m.vision) bits.push("vision");
  if (m.reasoning) bits.push("reasoning");
  return bits.join(" · ");
}

export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(n % 1_000_000 ? 1 : 0)}M`;
  if (n >= 1000) return `${Math.round(n / 1000)}k`;
  return String(n);
}

/** Models whose id or name contains every word of the query (case-insensitive). */
export function filterModels(models: ModelInfo[], query: string): ModelInfo[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return models;
  return models.filter((m) => {
    const hay = `${m.id} ${m.display_name ?? ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export type PickerGroup = { provider: string; models: string[] };

/**
 * The picker's options: every configured provider with its models (fetched list, else its
 * default model), and the current choice even if no list names it.
 */
export function pickerGroups(
  providers: ProviderInfo[],
  lists: Record<string, ModelInfo[] | undefined>,
  choice: { provider: string; model: string } | null,
): PickerGroup[] {
  return providers.map((p) => {
    const ids = (lists[p.name] ?? []).map((m) => m.id);
    const extra = [p.default_model, choice?.provider === p.name ? choice.model : null];
    for (const id of extra) if (id && !ids.includes(id)) ids.unshift(id);
    return { provider: p.name, models: ids };
  });
}

export const encodeChoice = (provider: string, model: string) => `${provider}\u0000${model}`;

export function decodeChoice(value: string): { provider: string; model: string } {
  const [provider, ...rest] = value.split("\u0000");
  return { provider: provider ?? "", model: rest.join("\u0000") };
}
