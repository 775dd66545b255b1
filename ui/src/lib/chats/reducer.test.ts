import { describe, expect, it } from "vitest";
import { canRetry, emptyView, fromHistory, reduce, type ChatView } from "./reducer";
import type { Event, EventMsg, Message, ChatHistory } from "../types";

const S = "s1";
let seq = 0;
const ev = (msg: EventMsg, s = ++seq): Event => ({ session_id: S, seq: s, msg });
const user = (id: string, text: string): Message => ({
  id, session_id: S, parent_id: null, role: "user", parts: [{ type: "text", text }],
  turn_id: "t1", provider: null, model: null, created_at: 1,
});
const started = (turn = "t1", u = user("u1", "hi"), a = "a1"): EventMsg => ({
  type: "turn_started", turn_id: turn, user_message: u, assistant_message_id: a, provider: "local", model: "m",
});

function text(v: ChatView, id = "a1"): string {
  const m = v.messages.find((m) => m.id === id)!;
  return m.parts.map((p) => ("text" in p ? p.text : "")).join("|");
}

describe("reducer", () => {
  it("builds a turn from its lifecycle events", () => {
    seq = 0;
    let v = emptyView(S);
    v = reduce(v, ev(started()));
    expect(v.activeTurnId).toBe("t1");
    expect(v.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    v = reduce(v, ev({ type: "item_started", message_id: "a1", index: 0, part: { type: "reasoning", text: "" } }));
    v = reduce(v, ev({ type: "reasoning_delta", message_id: "a1", index: 0, delta: "hm" }));
    v = reduce(v, ev({ type: "item_completed", message_id: "a1", index: 0, part: { type: "reasoning", text: "hm" } }));
    v = reduce(v, ev({ type: "item_started", message_id: "a1", index: 1, part: { type: "text", text: "" } }));
    v = reduce(v, ev({ type: "text_delta", message_id: "a1", index: 1, delta: "Hel" }));
    v = reduce(v, ev({ type: "text_delta", message_id: "a1", index: 1, delta: "lo" }));
    expect(text(v)).toBe("hm|Hello");
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t1", usage: { input_tokens: 3, output_tokens: 2 }, stop_reason: "end_turn" }));
    expect(v.activeTurnId).toBeNull();
    expect(v.turns["t1"]!.status).toBe("completed");
    expect(v.turns["t1"]!.usage?.output_tokens).toBe(2);
  });

  it("ignores events at or below the last seq and events of other chats", () => {
    let v = emptyView(S);
    v = reduce(v, ev(started(), 1));
    v = reduce(v, ev({ type: "item_started", message_id: "a1", index: 0, part: { type: "text", text: "" } }, 2));
    v = reduce(v, ev({ type: "text_delta", message_id: "a1", index: 0, delta: "A" }, 3));
    const same = reduce(v, ev({ type: "text_delta", message_id: "a1", index: 0, delta: "A" }, 3));
    const older = reduce(same, ev({ type: "text_delta", message_id: "a1", index: 0, delta: "X" }, 2));
    expect(text(older)).toBe("A");
    const other = reduce(older, { session_id: "other", seq: 9, msg: { type: "text_delta", message_id: "a1", index: 0, delta: "Z" } });
    expect(other).toBe(older);
  });

  it("re-syncs: a replay from TurnStarted rebuilds a partially loaded answer without doubling", () => {
    const h: ChatHistory = {
      session: { id: S, title: "t", created_at: 0, updated_at: 0, message_count: 2, provider: "local", model: "m", params: { system: null, temperature: null, top_p: null, max_output_tokens: null, reasoning: null, workspace: null, tools: null, assistant: null }, revision: 1, pinned: false, archived: false },
      messages: [user("u1", "hi"), { ...user("a1", "Hel"), role: "assistant", parts: [{ type: "text", text: "Hel" }] }],
      turns: [{ id: "t1", session_id: S, user_message_id: "u1", assistant_message_id: "a1", status: "streaming", provider: "local", model: "m", started_at: 0, ended_at: null, usage: null, stop_reason: null, error: null, context_from: null }],
      has_more: false,
      running: [],
      clipped: [],
      versions: [],
      later: [],
    };
    let v = fromHistory(h);
    expect(v.activeTurnId).toBe("t1");
    const replay = [
      ev(started(), 1),
      ev({ type: "item_started", message_id: "a1", index: 0, part: { type: "text", text: "" } }, 2),
      ev({ type: "text_delta", message_id: "a1", index: 0, delta: "Hel" }, 3),
      ev({ type: "text_delta", message_id: "a1", index: 0, delta: "lo" }, 4),
    ];
    for (const e of replay) v = reduce(v, e);
    for (const e of replay) v = reduce(v, e); // delivered twice: ignored
    expect(v.messages).toHaveLength(2);
    expect(text(v)).toBe("Hello");
  });

  it("a retry replaces the failed answer and keeps the user message once", () => {
    let v = emptyView(S);
    v = reduce(v, ev(started("t1"), 1));
    v = reduce(v, ev({ type: "turn_failed", turn_id: "t1", error: { code: "unauthorized", message: "Key rejected.", retryable: false } }, 2));
    expect(canRetry(v)).toBe(true);
    expect(v.turns["t1"]!.error?.message).toBe("Key rejected.");
    v = reduce(v, ev(started("t2", user("u1", "hi"), "a2"), 3));
    expect(v.messages.map((m) => m.id)).toEqual(["u1", "a2"]);
    expect(canRetry(v)).toBe(false);
  });

  it("records retry countdowns and stops", () => {
    let v = emptyView(S);
    v = reduce(v, ev(started(), 1));
    v = reduce(v, ev({ type: "stream_retry", attempt: 2, delay_ms: 1000, reason: { code: "rate_limited", message: "Slow down.", retryable: true } }, 2), 5000);
    expect(v.turns["t1"]!.retry).toEqual({ attempt: 2, delayMs: 1000, reason: "Slow down.", until: 6000 });
    v = reduce(v, ev({ type: "turn_stopped", turn_id: "t1" }, 3));
    expect(v.turns["t1"]!.status).toBe("stopped");
    expect(v.turns["t1"]!.retry).toBeNull();
  });
});

describe("tool calls", () => {
  it("tracks approvals, questions and timings by call status", async () => {
    const { reduce, emptyView } = await import("./reducer");
    let v = emptyView("s");
    let seq = 0;
    const ev = (msg: unknown) => ({ session_id: "s", seq: ++seq, msg }) as never;
    const call = (status: string) => ({ type: "tool_call", call_id: "c1", name: "run_shell", arguments: '{"command":"ls"}', status });
    v = reduce(v, ev({ type: "turn_started", turn_id: "t", user_message: { id: "u", session_id: "s", parent_id: null, role: "user", parts: [], turn_id: "t", provider: null, model: null, created_at: 0 }, assistant_message_id: "a", provider: "p", model: "m" }), 0);
    v = reduce(v, ev({ type: "item_started", message_id: "a", index: 0, part: call("pending_input") }), 1);
    v = reduce(v, ev({ type: "item_updated", message_id: "a", index: 0, part: call("awaiting_approval") }), 2);
    v = reduce(v, ev({ type: "approval_requested", call_id: "c1", name: "run_shell", arguments: '{"command":"ls"}', risk: "mutating", reason: "why", can_grant: true }), 3);
    expect(v.approvals.c1?.canGrant).toBe(true);
    v = reduce(v, ev({ type: "item_updated", message_id: "a", index: 0, part: call("running") }), 100);
    expect(v.approvals.c1).toBeUndefined();
    v = reduce(v, ev({ type: "question_asked", call_id: "c1", question: "which?" }), 110);
    expect(v.questions.c1).toBe("which?");
    v = reduce(v, ev({ type: "tool_progress", call_id: "c1", progress: 3, total: 10, message: "step 3" }), 120);
    expect(v.progress.c1).toEqual({ progress: 3, total: 10, message: "step 3" });
    v = reduce(v, ev({ type: "tool_progress", call_id: "c1", progress: 4, total: null, message: null }), 130);
    expect(v.progress.c1).toEqual({ progress: 4, total: null, message: null });
    v = reduce(v, ev({ type: "item_completed", message_id: "a", index: 0, part: call("completed") }), 350);
    expect(v.questions.c1).toBeUndefined();
    expect(v.progress.c1).toBeUndefined();
    expect(v.toolTimes.c1).toEqual({ start: 100, end: 350 });
    v = reduce(v, ev({ type: "turn_completed", turn_id: "t", usage: null, stop_reason: "tool_round_limit" }), 400);
    expect(v.turns.t?.stopReason).toBe("tool_round_limit");
  });
});

describe("streaming tool arguments", () => {
  it("appends argument deltas to the call, and the final part replaces them", async () => {
    const { reduce, emptyView } = await import("./reducer");
    let v = emptyView("s");
    let seq = 0;
    const ev = (msg: unknown) => ({ session_id: "s", seq: ++seq, msg }) as never;
    v = reduce(v, ev({ type: "turn_started", turn_id: "t", user_message: { id: "u", session_id: "s", parent_id: null, role: "user", parts: [], turn_id: "t", provider: null, model: null, created_at: 0 }, assistant_message_id: "a", provider: "p", model: "m" }), 0);
    v = reduce(v, ev({ type: "item_started", message_id: "a", index: 0, part: { type: "tool_call", call_id: "c", name: "write_file", arguments: "", status: "pending_input" } }), 1);
    for (const d of ['{"path":', '"a.txt",', '"content":"', "x".repeat(1000), '"}']) {
      v = reduce(v, ev({ type: "arguments_delta", message_id: "a", index: 0, delta: d }), 2);
    }
    const p = v.messages[1]!.parts[0]!;
    expect(p.type === "tool_call" && p.arguments).toBe(`{"path":"a.txt","content":"${"x".repeat(1000)}"}`);
    // A delta for a part that is not a call changes nothing.
    const before = v;
    v = reduce(v, ev({ type: "arguments_delta", message_id: "a", index: 5, delta: "zz" }), 3);
    expect(v.messages).toEqual(before.messages);
  });
});

describe("context trimming", () => {
  it("marks where the model's view of the chat starts, from history and from the event", async () => {
    const { contextStart, fromHistory, reduce } = await import("./reducer");
    const S = "s1";
    const msg = (id: string, role: "user" | "assistant", turn: string | null) => ({
      id,
      session_id: S,
      parent_id: null,
      role,
      parts: [{ type: "text" as const, text: id }],
      turn_id: turn,
      provider: null,
      model: null,
      created_at: 0,
    });
    const turn = (id: string, user: string, answer: string, from: string | null) => ({
      id,
      session_id: S,
      user_message_id: user,
      assistant_message_id: answer,
      status: "completed" as const,
      provider: "p",
      model: "m",
      started_at: 0,
      ended_at: 0,
      usage: null,
      stop_reason: null,
      error: null,
      context_from: from,
    });
    const h = {
      session: { id: S, title: "", created_at: 0, updated_at: 0, message_count: 4, provider: null, model: null, params: null } as never,
      messages: [msg("u1", "user", null), msg("a1", "assistant", "t1"), msg("u2", "user", null), msg("a2", "assistant", "t2")],
      turns: [turn("t1", "u1", "a1", null), turn("t2", "u2", "a2", "u2")],
      has_more: false,
      running: [],
      clipped: [],
    };
    let v = fromHistory(h as never);
    expect(contextStart(v)).toEqual({ messageId: "u2", leftOut: null });
    // The newest answer decides: an answer sent whole has no marker.
    v = fromHistory({ ...h, turns: [turn("t1", "u1", "a1", "u1"), turn("t2", "u2", "a2", null)] } as never);
    expect(contextStart(v)).toBeNull();
    v = reduce(v, { session_id: S, seq: 1, msg: { type: "context_trimmed", turn_id: "t2", first_message_id: "a1", left_out: 1 } });
    expect(contextStart(v)).toEqual({ messageId: "a1", leftOut: 1 });
  });
});

describe("clipped parts", () => {
  it("a page's clipped parts are listed, replaced whole on request, and merged from older pages", async () => {
    const { fromHistory, prependHistory, unclip } = await import("./reducer");
    const S = "s1";
    const msg = (id: string, text: string) => ({
      id,
      session_id: S,
      parent_id: null,
      role: "assistant" as const,
      parts: [{ type: "text" as const, text }],
      turn_id: null,
      provider: null,
      model: null,
      created_at: 0,
    });
    const page = (messages: ReturnType<typeof msg>[], clipped: { message_id: string; index: number; chars: number }[]) =>
      ({
        session: { id: S, title: "", created_at: 0, updated_at: 0, message_count: 2, provider: null, model: null, params: null },
        messages,
        turns: [],
        has_more: false,
        running: [],
        clipped,
      }) as never;
    let v = fromHistory(page([msg("b", "start of b")], [{ message_id: "b", index: 0, chars: 500_000 }]));
    expect(v.clipped).toEqual({ "b:0": 500_000 });
    v = prependHistory(v, page([msg("a", "start of a")], [{ message_id: "a", index: 0, chars: 300_000 }]));
    expect(v.clipped).toEqual({ "a:0": 300_000, "b:0": 500_000 });
    v = unclip(v, "b", 0, { type: "text", text: "the whole of b" });
    expect(v.clipped).toEqual({ "a:0": 300_000 });
    expect(v.messages[1]!.parts[0]).toEqual({ type: "text", text: "the whole of b" });
  });
});
