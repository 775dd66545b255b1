import { describe, expect, it } from "vitest";
import { emptyView, reduce } from "./reducer";
import { plainText } from "./copy";
import { chatRows, groupOf, letterOf } from "./groups";
import { shortcutOf } from "../shortcuts";
import type { Event, EventMsg, Message, ChatSummary } from "../types";

const S = "s1";
let seq = 0;
const ev = (msg: EventMsg): Event => ({ session_id: S, seq: ++seq, msg });
const user = (id: string, parent: string | null, text = id): Message => ({
  id, session_id: S, parent_id: parent, role: "user", parts: [{ type: "text", text }],
  turn_id: null, provider: null, model: null, created_at: 1,
});
const start = (turn: string, u: Message, a: string): EventMsg => ({
  type: "turn_started", turn_id: turn, user_message: u, assistant_message_id: a, provider: "p", model: "m",
});
const done = (turn: string): EventMsg => ({ type: "turn_completed", turn_id: turn, usage: null, stop_reason: "end_turn" });

function twoTurns() {
  seq = 0;
  let v = emptyView(S);
  v = reduce(v, ev(start("t1", user("q1", null), "a1")));
  v = reduce(v, ev(done("t1")));
  v = reduce(v, ev(start("t2", user("q2", "a1"), "a2")));
  v = reduce(v, ev(done("t2")));
  return v;
}

describe("the tree in the view", () => {
  it("an edit replaces the path from the edited message and counts as a new version", () => {
    let v = twoTurns();
    v = reduce(v, ev(start("t3", user("q1b", null, "edited"), "a3")));
    expect(v.messages.map((m) => m.id)).toEqual(["q1b", "a3"]);
    expect(v.versions["q1b"]).toEqual(["q1", "q1b"]);
    v = reduce(v, ev(done("t3")));
    // A second edit of the same point adds a third version.
    v = reduce(v, ev(start("t4", user("q1c", null), "a4")));
    expect(v.versions["q1c"]).toEqual(["q1", "q1b", "q1c"]);
  });

  it("an edit of a later message keeps the path before it", () => {
    let v = twoTurns();
    v = reduce(v, ev(start("t3", user("q2b", "a1"), "a3")));
    expect(v.messages.map((m) => m.id)).toEqual(["q1", "a1", "q2b", "a3"]);
    expect(v.versions["q2b"]).toEqual(["q2", "q2b"]);
  });

  it("regenerating an earlier answer cuts what followed and adds a version of the answer", () => {
    let v = twoTurns();
    v = reduce(v, ev(start("t3", user("q1", null), "a1b")));
    expect(v.messages.map((m) => m.id)).toEqual(["q1", "a1b"]);
    expect(v.versions["a1b"]).toEqual(["a1", "a1b"]);
  });

  it("a message sent after a rewind becomes a version beside the kept later turns", () => {
    let v = twoTurns();
    v = { ...v, messages: v.messages.slice(0, 2), later: ["q2"] };
    v = reduce(v, ev(start("t3", user("q2b", "a1"), "a3")));
    expect(v.versions["q2b"]).toEqual(["q2", "q2b"]);
    expect(v.later).toEqual([]);
  });

  it("a plain send adds no versions", () => {
    const v = twoTurns();
    expect(v.versions).toEqual({});
  });
});

describe("copy as text", () => {
  const cases: [string, string][] = [
    ["# Title\nSome **bold** and *it* and `code`.", "Title\nSome bold and it and code."],
    ["A [link](https://x.org) here", "A link (https://x.org) here"],
    ["<https://x.org>", "<https://x.org>"],
    ["```js\nlet a = 1; // **not bold**\n```", "let a = 1; // **not bold**"],
    ["> quoted\n> more", "quoted\nmore"],
    ["- one\n- two", "- one\n- two"],
    ["| a | b |\n|---|---|\n| 1 | 2 |", "a\tb\n1\t2"],
    ["![alt](img.png)", "alt"],
    ["snake_case_name stays", "snake_case_name stays"],
    ["2 * 3 * 4", "2 * 3 * 4"],
    ["---", ""],
    ["~~gone~~ kept", "gone kept"],
  ];
  for (const [md, want] of cases) {
    it(JSON.stringify(md), () => expect(plainText(md)).toBe(want));
  }
});

describe("chat list groups", () => {
  const now = new Date(2026, 11, 1, 15, 0).getTime();
  const day = 86_400_000;
  const chat = (id: string, updated: number, pinned = false): ChatSummary =>
    ({ id, title: id, created_at: 0, updated_at: updated, message_count: 2, provider: null, model: null, params: {}, revision: 0, pinned, archived: false }) as unknown as ChatSummary;

  it("names each group", () => {
    expect(groupOf(now - 60_000, now)).toBe("Today");
    expect(groupOf(now - day, now)).toBe("Yesterday");
    expect(groupOf(now - 5 * day, now)).toBe("Previous 7 days");
    expect(groupOf(now - 20 * day, now)).toBe("Previous 30 days");
    expect(groupOf(new Date(2026, 3, 10).getTime(), now)).toMatch(/April/);
    expect(groupOf(new Date(2024, 3, 10).getTime(), now)).toMatch(/2024/);
  });

  it("puts pinned chats first under one header and the rest under date headers", () => {
    const rows = chatRows([chat("p", now - 40 * day, true), chat("a", now - 1000), chat("b", now - 2000), chat("c", now - day)], now);
    expect(rows.map((r) => (r.kind === "header" ? `#${r.label}` : r.s.id))).toEqual(["#Pinned", "p", "#Today", "a", "b", "#Yesterday", "c"]);
  });

  it("groups by creation, or by the title's first letter, as the list is sorted", () => {
    const made = (id: string, title: string, created: number): ChatSummary => ({ ...chat(id, now), title, created_at: created });
    // In the database's order: before A, the letters without regard to case, then the rest.
    const byTitle = chatRows([made("n", "42 things", now), made("a", "apple", now), made("b", "Avocado", now), made("p", "Zed", now), made("t", "~tilde", now), made("e", "émile", now), made("o", "Östen", now)], now, "title");
    expect(byTitle.map((r) => (r.kind === "header" ? `#${r.label}` : r.s.id))).toEqual(["##", "n", "#A", "a", "b", "#Z", "p", "#Other", "t", "e", "o"]);
    expect(letterOf("[x]")).toBe("Other");
    expect(letterOf("")).toBe("#");
    const byCreated = chatRows([made("a", "x", now - 1000), made("b", "y", now - 3 * day)], now, "created");
    expect(byCreated.map((r) => (r.kind === "header" ? `#${r.label}` : r.s.id))).toEqual(["#Today", "a", "#Previous 7 days", "b"]);
    expect(letterOf("  ")).toBe("#");
    expect(letterOf("日本")).toBe("Other");
  });

  it("handles 10,000 chats in one pass", () => {
    const list = Array.from({ length: 10_000 }, (_, i) => chat(`c${i}`, now - i * 3_600_000));
    const t = performance.now();
    const rows = chatRows(list, now);
    expect(performance.now() - t).toBeLessThan(200);
    expect(rows.filter((r) => r.kind === "chat")).toHaveLength(10_000);
  });
});

describe("shortcuts", () => {
  const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
    key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods,
  });
  it("uses Ctrl on Windows and Linux, ⌘ on macOS", () => {
    expect(shortcutOf(key("n", { ctrlKey: true }), false)).toBe("new-chat");
    expect(shortcutOf(key("n", { metaKey: true }), false)).toBeNull();
    expect(shortcutOf(key("n", { metaKey: true }), true)).toBe("new-chat");
    expect(shortcutOf(key("/", { ctrlKey: true }), false)).toBe("shortcuts");
    expect(shortcutOf(key("R", { ctrlKey: true, shiftKey: true }), false)).toBe("regenerate");
    expect(shortcutOf(key("C", { metaKey: true, shiftKey: true }), true)).toBe("copy-last");
    expect(shortcutOf(key("Tab", { ctrlKey: true }), true)).toBe("next-chat");
    expect(shortcutOf(key("Tab", { ctrlKey: true, shiftKey: true }), false)).toBe("previous-chat");
    expect(shortcutOf(key("c", { ctrlKey: true }), false)).toBeNull();
    expect(shortcutOf(key("n"), false)).toBeNull();
    expect(shortcutOf(key("k", { ctrlKey: true }), false)).toBe("search");
    expect(shortcutOf(key("k", { metaKey: true }), true)).toBe("search");
    expect(shortcutOf(key("K", { ctrlKey: true, shiftKey: true }), false)).toBeNull();
  });
});
