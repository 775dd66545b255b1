// The search palette's logic (Ctrl/⌘+K): commands matched by name, a search's filters turned
// into the core's query, and results grouped for the list the keyboard moves through.
import type { SearchHit, SearchQuery } from "../types";

export interface Command {
  id: string;
  label: string;
  /** Other words that find it. */
  keywords?: string;
  run: () => void;
}

/** Commands whose label or keywords contain every word typed (all of them when none is typed). */
export function matchCommands(commands: Command[], text: string): Command[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return commands.filter((c) => {
    const hay = `${c.label} ${c.keywords ?? ""}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export interface Filters {
  scope: "all" | "chat";
  role: "" | "user" | "assistant";
  model: string;
  provider: string;
  /** YYYY-MM-DD, local time, inclusive. */
  from: string;
  /** YYYY-MM-DD, local time, inclusive. */
  to: string;
  tools: boolean;
}

export const NO_FILTERS: Filters = { scope: "all", role: "", model: "", provider: "", from: "", to: "", tools: false };

/** Local midnight of a YYYY-MM-DD day, in ms (null when empty or not a day). */
export function dayStart(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const t = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
  return Number.isNaN(t) ? null : t;
}

export function toQuery(text: string, f: Filters, currentChat: string | null, limit = 40): SearchQuery {
  const to = dayStart(f.to);
  return {
    text,
    chat: f.scope === "chat" ? currentChat : null,
    role: f.role || null,
    model: f.model || null,
    provider: f.provider || null,
    assistant: null,
    since: dayStart(f.from),
    until: to === null ? null : to + 86_400_000,
    has_tool_calls: f.tools,
    limit,
  };
}

/** How many filters differ from none (the scope is shown apart). */
export function activeFilters(f: Filters): number {
  return [f.role, f.model, f.provider, f.from, f.to].filter(Boolean).length + (f.tools ? 1 : 0);
}

export const FIELD_LABEL: Record<SearchHit["field"], string> = {
  title: "Title",
  text: "Message",
  reasoning: "Reasoning",
  tool_call: "Tool call",
  tool_result: "Tool result",
  file: "Attached file",
};

/** Who wrote the hit, for its line: "You", "gpt-4o", "Assistant". */
export function author(hit: SearchHit): string {
  if (hit.role === "user") return "You";
  if (hit.role === "assistant") return hit.model || "Assistant";
  if (hit.role === "system") return "System";
  return "Chat";
}

export type Item = { kind: "command"; command: Command } | { kind: "chat"; hit: SearchHit } | { kind: "message"; hit: SearchHit };

/** The list as shown: commands, then chats (their titles matched), then messages. */
export function items(commands: Command[], hits: SearchHit[]): Item[] {
  return [
    ...commands.map((command) => ({ kind: "command" as const, command })),
    ...hits.filter((h) => !h.message_id).map((hit) => ({ kind: "chat" as const, hit })),
    ...hits.filter((h) => h.message_id).map((hit) => ({ kind: "message" as const, hit })),
  ];
}
