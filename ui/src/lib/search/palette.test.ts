import { describe, expect, it } from "vitest";
import { activeFilters, dayStart, items, matchCommands, NO_FILTERS, toQuery, type Command } from "./palette";
import type { SearchHit } from "../types";

const cmd = (id: string, label: string, keywords?: string): Command => ({ id, label, keywords, run: () => {} });

describe("the palette", () => {
  it("matches commands by every word typed, in any case", () => {
    const all = [cmd("new", "New chat"), cmd("usage", "Usage and costs", "tokens spend"), cmd("export", "Export all chats…")];
    expect(matchCommands(all, "").map((c) => c.id)).toEqual(["new", "usage", "export"]);
    expect(matchCommands(all, "CHAT").map((c) => c.id)).toEqual(["new", "export"]);
    expect(matchCommands(all, "tok").map((c) => c.id)).toEqual(["usage"]);
    expect(matchCommands(all, "new usage")).toEqual([]);
  });

  it("turns filters into the core's query, days inclusive in local time", () => {
    expect(toQuery("x", NO_FILTERS, "c1")).toMatchObject({ text: "x", chat: null, role: null, since: null, until: null, has_tool_calls: false });
    const q = toQuery("x", { ...NO_FILTERS, scope: "chat", role: "assistant", from: "2026-11-30", to: "2026-11-30", tools: true }, "c1");
    expect(q.chat).toBe("c1");
    expect(q.role).toBe("assistant");
    expect(q.until! - q.since!).toBe(86_400_000);
    expect(new Date(q.since!).getDate()).toBe(30);
    expect(q.has_tool_calls).toBe(true);
    expect(dayStart("30/11/2026")).toBeNull();
    expect(dayStart("")).toBeNull();
    expect(activeFilters({ ...NO_FILTERS, scope: "chat" })).toBe(0);
    expect(activeFilters({ ...NO_FILTERS, model: "m", tools: true })).toBe(2);
  });

  it("lists commands, then chats, then messages", () => {
    const hit = (message_id: string | null): SearchHit =>
      ({ session_id: "s", title: "T", message_id, role: null, model: null, provider: null, at: 0, field: "title", snippet: [], on_selected_path: true, archived: false }) as SearchHit;
    const list = items([cmd("a", "A")], [hit("m1"), hit(null)]);
    expect(list.map((i) => i.kind)).toEqual(["command", "chat", "message"]);
  });
});
