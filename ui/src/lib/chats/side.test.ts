import { describe, expect, it } from "vitest";
import { columnMessages, emptyView, reduce, type ChatView } from "./reducer";
import type { Event, EventMsg, Message } from "../types";

const S = "s1";
let seq = 0;
const ev = (msg: EventMsg): Event => ({ session_id: S, seq: ++seq, msg });
const U: Message = { id: "u1", session_id: S, parent_id: null, role: "user", parts: [{ type: "text", text: "q" }], turn_id: "t1", provider: null, model: null, created_at: 1 };
const start = (turn: string, answer: string, provider: string, side: string[] = ["a1", "a2"]): EventMsg => ({
  type: "turn_started", turn_id: turn, user_message: U, assistant_message_id: answer, provider, model: "m", side_by_side: side,
});
const delta = (answer: string, d: string): EventMsg => ({ type: "text_delta", message_id: answer, index: 0, delta: d });
const item = (answer: string): EventMsg => ({ type: "item_started", message_id: answer, index: 0, part: { type: "text", text: "" } });
const texts = (v: ChatView) => columnMessages(v).map((m) => m.parts.map((p) => ("text" in p ? p.text : "")).join(""));

describe("side by side", () => {
  it("streams columns into their own answers; the chat answers until the last ends", () => {
    seq = 0;
    let v = emptyView(S);
    v = reduce(v, ev(start("t1", "a1", "p1")));
    v = reduce(v, ev(start("t2", "a2", "p2")));
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(v.side?.answers).toEqual(["a1", "a2"]);
    expect(v.versions["a1"]).toEqual(["a1", "a2"]);
    for (const a of ["a1", "a2"]) v = reduce(v, ev(item(a)));
    v = reduce(v, ev(delta("a2", "two")));
    v = reduce(v, ev(delta("a1", "one")));
    expect(texts(v)).toEqual(["one", "two"]);
    v = reduce(v, ev({ type: "approval_requested", call_id: "c", name: "web_search", arguments: "{}", risk: "network", reason: "r", can_grant: true, in_person: false }));
    v = reduce(v, ev({ type: "turn_failed", turn_id: "t1", error: { code: "server", message: "down", retryable: true } as never }));
    expect(v.activeTurnId).toBe("t2");
    expect(Object.keys(v.approvals)).toEqual(["c"]);
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t2", usage: null, stop_reason: "end_turn" }));
    expect(v.activeTurnId).toBeNull();
    // The failed column answered again by its model takes the column's place.
    v = reduce(v, ev({ type: "turn_started", turn_id: "t3", user_message: U, assistant_message_id: "a3", provider: "p1", model: "m" }));
    expect(v.side?.answers).toEqual(["a3", "a2"]);
    expect(v.activeTurnId).toBe("t3");
    expect(v.versions["a1"]).toEqual(["a1", "a2", "a3"]);
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    // A new message ends the columns.
    const U2: Message = { ...U, id: "u2", parent_id: "a1" };
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t3", usage: null, stop_reason: "end_turn" }));
    v = reduce(v, ev({ type: "turn_started", turn_id: "t4", user_message: U2, assistant_message_id: "a4", provider: "p1", model: "m" }));
    expect(v.side).toBeNull();
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a1", "u2", "a4"]);
  });
});

describe("side by side, out of order", () => {
  it("keeps the first column as the row whichever starts first, and the path's column takes the row after", () => {
    seq = 100;
    let v = emptyView(S);
    v = reduce(v, ev(start("t2", "a2", "p2")));
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(v.side?.anchor).toBe("a1");
    expect(columnMessages(v).map((m) => m.id)).toEqual(["a1", "a2"]);
    // The second column ends before the first has started: the chat still answers.
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t2", usage: null, stop_reason: "end_turn" }));
    expect(v.activeTurnId).not.toBeNull();
    v = reduce(v, ev(start("t1", "a1", "p1")));
    v = reduce(v, ev(item("a1")));
    v = reduce(v, ev(delta("a1", "one")));
    expect(v.messages[1]!.turn_id).toBe("t1");
    expect(texts(v)).toEqual(["one", ""]);
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t1", usage: null, stop_reason: "end_turn" }));
    expect(v.activeTurnId).toBeNull();
    // The next message follows the second column (the chat's path went through it).
    const U2: Message = { ...U, id: "u2", parent_id: "a2" };
    v = reduce(v, ev({ type: "turn_started", turn_id: "t5", user_message: U2, assistant_message_id: "a5", provider: "p2", model: "m" }));
    expect(v.side).toBeNull();
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a2", "u2", "a5"]);
  });
});
