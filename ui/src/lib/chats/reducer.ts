// The pure event → view reducer. A ChatView is built from a history page and then kept
// current by applying the chat's events in `seq` order; events at or below `lastSeq` are
// ignored, so replays after a reload are harmless.
import { TURN_END_EVENTS } from "../../bindings";
import type { ErrorInfo, Event, EventMsg, Message, Part, ChatHistory, StopReason, ToolRisk, TurnInfo, TurnStatus, Usage } from "../types";

export interface TurnView {
  id: string;
  status: TurnStatus;
  provider: string | null;
  model: string | null;
  usage: Usage | null;
  error: ErrorInfo | null;
  retry: { attempt: number; delayMs: number; reason: string; until: number } | null;
  stopReason?: StopReason | null;
  /** The first message the model was sent, when older ones were left out to fit its window. */
  contextFrom?: string | null;
  /** How many messages were left out (known when this window saw the trim happen). */
  leftOut?: number;
  /** When it started and ended (ms), for the answer's details. */
  startedAt?: number;
  endedAt?: number | null;
}

/** A tool call waiting for the user's decision (decided in Rust; the window only answers). */
export interface PendingApproval {
  callId: string;
  name: string;
  arguments: string;
  risk: ToolRisk;
  reason: string;
  canGrant: boolean;
}

/** How far a running call is, as its tool last said. */
export interface ToolProgress {
  progress: number;
  total: number | null;
  message: string | null;
}

export interface ChatView {
  chatId: string;
  messages: Message[];
  turns: Record<string, TurnView>;
  activeTurnId: string | null;
  lastSeq: number;
  hasMore: boolean;
  /** Approval requests still waiting, by call id. */
  approvals: Record<string, PendingApproval>;
  /** Questions (`ask_user`) still waiting, by call id. */
  questions: Record<string, string>;
  /** The last progress a running call reported (an MCP server's), by call id. */
  progress: Record<string, ToolProgress>;
  /** When each call started and ended running (this window's clock). */
  toolTimes: Record<string, { start: number; end?: number }>;
  /** Parts sent with only the start of their text: "messageId:index" → whole length. */
  clipped: Record<string, number>;
  /** For a message with other versions (siblings): all of them, oldest first. */
  versions: Record<string, string[]>;
  /** Messages after the end of the shown path (the chat was rewound): the later turns kept. */
  later: string[];
  /** Side by side: the answers of one message shown in columns, while this window shows them. */
  side?: SideBySide | null;
}

/** A message answered by several models at once (`turn_started.side_by_side`). */
export interface SideBySide {
  /** The user message they answer. */
  user: string;
  /** The answer in the transcript's list (the first column when it started): the row the columns are drawn at. */
  anchor: string;
  /** The columns' answers, in order (a retried column's new answer takes its place). */
  answers: string[];
  /** Every column's message but the anchor's (that one is in `messages`). */
  messages: Record<string, Message>;
}

export function emptyView(chatId: string): ChatView {
  return {
    chatId,
    messages: [],
    turns: {},
    activeTurnId: null,
    lastSeq: 0,
    hasMore: false,
    approvals: {},
    questions: {},
    progress: {},
    toolTimes: {},
    clipped: {},
    versions: {},
    later: [],
  };
}

function turnView(t: TurnInfo): TurnView {
  return {
    id: t.id,
    status: t.status,
    provider: t.provider,
    model: t.model,
    usage: t.usage,
    error: t.error,
    retry: null,
    stopReason: t.stop_reason,
    contextFrom: t.context_from,
    startedAt: t.started_at,
    endedAt: t.ended_at,
  };
}

export function fromHistory(h: ChatHistory): ChatView {
  const turns: Record<string, TurnView> = {};
  let active: string | null = null;
  for (const t of h.turns) {
    turns[t.id] = turnView(t);
    if (t.status === "pending" || t.status === "streaming") active = t.id;
  }
  return {
    chatId: h.session.id,
    messages: h.messages.map((m) => ({ ...m, parts: [...m.parts] })),
    turns,
    activeTurnId: active,
    lastSeq: 0,
    hasMore: h.has_more,
    approvals: {},
    questions: {},
    progress: {},
    toolTimes: {},
    clipped: clippedOf(h),
    versions: versionsOf(h),
    later: h.later ?? [],
  };
}

function versionsOf(h: ChatHistory): Record<string, string[]> {
  return Object.fromEntries((h.versions ?? []).map((v) => [v.selected, v.ids]));
}

function clippedOf(h: ChatHistory): Record<string, number> {
  return Object.fromEntries((h.clipped ?? []).map((c) => [`${c.message_id}:${c.index}`, c.chars]));
}

/** Puts a whole part (fetched after a page sent it clipped) in place of its clipped start. */
export function unclip(v: ChatView, messageId: string, index: number, part: Part): ChatView {
  const key = `${messageId}:${index}`;
  const clipped = { ...v.clipped };
  delete clipped[key];
  return { ...updateMessage(v, messageId, (m) => setPart(m, index, part)), clipped };
}

/** Prepends an older history page. */
export function prependHistory(v: ChatView, h: ChatHistory): ChatView {
  const known = new Set(v.messages.map((m) => m.id));
  const older = h.messages.filter((m) => !known.has(m.id));
  const turns = { ...v.turns };
  for (const t of h.turns) {
    turns[t.id] ??= turnView(t);
  }
  return {
    ...v,
    messages: [...older, ...v.messages],
    turns,
    hasMore: h.has_more,
    clipped: { ...v.clipped, ...clippedOf(h) },
    versions: { ...versionsOf(h), ...v.versions },
  };
}

function updateMessage(v: ChatView, id: string, f: (m: Message) => Message): ChatView {
  const col = v.side?.messages[id];
  if (v.side && col) return { ...v, side: { ...v.side, messages: { ...v.side.messages, [id]: f(col) } } };
  const i = v.messages.findIndex((m) => m.id === id);
  if (i < 0) return v;
  const messages = v.messages.slice();
  messages[i] = f(messages[i]!);
  return { ...v, messages };
}

function setPart(m: Message, index: number, part: Part): Message {
  const parts = m.parts.slice();
  parts[index] = part;
  return { ...m, parts };
}

function appendText(m: Message, index: number, delta: string): Message {
  const p = m.parts[index];
  if (!p || (p.type !== "text" && p.type !== "reasoning")) return m;
  return setPart(m, index, { ...p, text: p.text + delta });
}

function appendArguments(m: Message, index: number, delta: string): Message {
  const p = m.parts[index];
  if (!p || p.type !== "tool_call") return m;
  return setPart(m, index, { ...p, arguments: p.arguments + delta });
}

function endTurn(v: ChatView, turnId: string, patch: Partial<TurnView>, now: number): ChatView {
  const t = v.turns[turnId];
  const turns = t ? { ...v.turns, [turnId]: { ...t, ...patch, retry: null, endedAt: t.endedAt ?? now } } : v.turns;
  // Side by side, the chat answers until its last column ends (and keeps the others' questions);
  // a column that has not started yet counts as answering.
  const cols = columnTurns({ ...v, turns });
  const other = cols.find((c) => c && (turns[c]?.status === "streaming" || turns[c]?.status === "pending"));
  if (other) return { ...v, turns, activeTurnId: other };
  if (v.side && (cols.length < v.side.answers.length || cols.includes(null))) return { ...v, turns };
  const activeTurnId = v.side || v.activeTurnId === turnId ? null : v.activeTurnId;
  return { ...v, turns, activeTurnId, approvals: {}, questions: {}, progress: {} };
}

/** The message of each column, in order (side by side). */
export function columnMessages(v: ChatView): Message[] {
  const side = v.side;
  if (!side) return [];
  return side.answers.map((id) => side.messages[id] ?? v.messages.find((m) => m.id === id)).filter((m): m is Message => !!m);
}

/** The turn of each column. */
function columnTurns(v: ChatView): (string | null)[] {
  return columnMessages(v).map((m) => m.turn_id ?? null);
}

/** An empty answer for a turn that starts. */
function emptyAnswer(v: ChatView, msg: TurnStartedMsg, now: number): Message {
  return { id: msg.assistant_message_id, session_id: v.chatId, parent_id: msg.user_message.id, role: "assistant", parts: [], turn_id: msg.turn_id, provider: msg.provider, model: msg.model, created_at: now };
}

function streamingTurn(msg: TurnStartedMsg, now: number): TurnView {
  return { id: msg.turn_id, status: "streaming", provider: msg.provider, model: msg.model, usage: null, error: null, retry: null, startedAt: now, endedAt: null };
}

/**
 * A turn of a message shown side by side. The first column (`side_by_side[0]`) is the
 * transcript's row (the chat's path goes through it), whichever column starts first: until it
 * starts, an empty stand-in holds its place. The others join the columns; a column answered
 * again takes the place of the ended column of its model. Null: not side by side.
 */
function sideStarted(v: ChatView, msg: TurnStartedMsg, now: number): ChatView | null {
  const all = msg.side_by_side ?? [];
  const side = v.side;
  const mine = side && side.user === msg.user_message.id;
  if (all.length > 1 && !mine) {
    const started = turnStarted(v, msg, now);
    const anchor = all[0]!;
    const fresh: SideBySide = { user: msg.user_message.id, anchor, answers: all, messages: {} };
    const versions = { ...started.versions, [anchor]: all };
    if (msg.assistant_message_id === anchor) return { ...started, side: fresh, versions };
    // Another column started first: it waits in the columns, a stand-in holds the row.
    const col = started.messages[started.messages.length - 1]!;
    const standIn: Message = { ...col, id: anchor, parts: [], turn_id: null, provider: null, model: null };
    return { ...started, messages: [...started.messages.slice(0, -1), standIn], side: { ...fresh, messages: { [col.id]: col } }, versions };
  }
  if (!side || !mine) return null;
  let answers = side.answers;
  if (!answers.includes(msg.assistant_message_id)) {
    const cols = columnMessages(v);
    const at = cols.findIndex((m) => m.provider === msg.provider && m.model === msg.model && v.turns[m.turn_id ?? ""]?.status !== "completed");
    answers = at >= 0 ? answers.map((id, i) => (i === at ? msg.assistant_message_id : id)) : [...answers, msg.assistant_message_id];
  }
  const turns = { ...v.turns, [msg.turn_id]: streamingTurn(msg, now) };
  const versions = { ...v.versions, [side.anchor]: [...new Set([...(v.versions[side.anchor] ?? side.answers), msg.assistant_message_id])] };
  const activeTurnId = v.activeTurnId ?? msg.turn_id;
  if (msg.assistant_message_id === side.anchor) {
    // The first column starts after another: its row takes its turn.
    const messages = v.messages.map((m) => (m.id === side.anchor ? emptyAnswer(v, msg, now) : m));
    return { ...v, messages, turns, versions, activeTurnId, side: { ...side, answers } };
  }
  return { ...v, turns, versions, activeTurnId, side: { ...side, answers, messages: { ...side.messages, [msg.assistant_message_id]: emptyAnswer(v, msg, now) } } };
}

/**
 * Leaving side by side (a message that is not one of its columns): when the chat goes on from
 * a column other than the row's (a retried column, or a queued message after the columns),
 * that column's answer takes the row.
 */
function leaveSide(v: ChatView, msg: TurnStartedMsg): ChatView {
  const side = v.side;
  if (!side) return v;
  const parent = msg.user_message.parent_id;
  const col = parent && parent !== side.anchor ? side.messages[parent] : undefined;
  const messages = col ? v.messages.map((m) => (m.id === side.anchor ? col : m)) : v.messages;
  const versions = col ? { ...v.versions, [col.id]: v.versions[side.anchor] ?? side.answers } : v.versions;
  return { ...v, messages, versions, side: null };
}

/** Keeps the pending approvals, questions and timings in step with a tool call's status. */
function trackCall(v: ChatView, part: Part, now: number): ChatView {
  if (part.type !== "tool_call") return v;
  const id = part.call_id;
  let { approvals, questions, progress, toolTimes } = v;
  if (part.status !== "awaiting_approval" && approvals[id]) {
    approvals = { ...approvals };
    delete approvals[id];
  }
  if (part.status !== "running" && questions[id]) {
    questions = { ...questions };
    delete questions[id];
  }
  if (part.status !== "running" && progress[id]) {
    progress = { ...progress };
    delete progress[id];
  }
  const t = toolTimes[id];
  if (part.status === "running" && !t) toolTimes = { ...toolTimes, [id]: { start: now } };
  const terminal = part.status === "completed" || part.status === "failed" || part.status === "denied" || part.status === "cancelled";
  if (terminal && t && t.end === undefined) toolTimes = { ...toolTimes, [id]: { ...t, end: now } };
  const same = approvals === v.approvals && questions === v.questions && progress === v.progress && toolTimes === v.toolTimes;
  return same ? v : { ...v, approvals, questions, progress, toolTimes };
}

type TurnStartedMsg = Extract<EventMsg, { type: "turn_started" }>;

/** Where a turn's user message goes: after the messages it follows, with the versions it makes. */
function placeUser(v: ChatView, msg: TurnStartedMsg): { before: Message[]; versions: ChatView["versions"] } {
  const user = msg.user_message;
  const at = v.messages.findIndex((m) => m.id === user.id);
  let before: Message[];
  let versions = v.versions;
  if (at >= 0) {
    // A retry or regenerate answers an existing user message: the old answer (the
    // message after it) becomes another version of the new one.
    before = v.messages.slice(0, at + 1);
    const old = v.messages[at + 1];
    if (old && old.id !== msg.assistant_message_id) {
      versions = { ...versions, [msg.assistant_message_id]: [...(versions[old.id] ?? [old.id]), msg.assistant_message_id] };
    }
  } else {
    // A new message, or an edit: it follows its parent, and what came after the parent
    // is another branch. An edit is a new version of the message it replaces.
    const p = user.parent_id ? v.messages.findIndex((m) => m.id === user.parent_id) : -1;
    const cut = user.parent_id ? (p >= 0 ? p + 1 : v.messages.length) : 0;
    const replaced = v.messages[cut];
    if (replaced && cut < v.messages.length) {
      versions = { ...versions, [user.id]: [...(versions[replaced.id] ?? [replaced.id]), user.id] };
    } else if (cut === v.messages.length && v.later.length > 0) {
      // After a rewind: the kept later turns begin with this message's older siblings.
      versions = { ...versions, [user.id]: [...[...v.later].reverse(), user.id] };
    }
    before = [...v.messages.slice(0, cut), { ...user, parts: [...user.parts] }];
  }
  return { before, versions };
}

/** A turn starts: its user message in place, an empty answer after it, the turn streaming. */
function turnStarted(v: ChatView, msg: TurnStartedMsg, now: number): ChatView {
  const user = msg.user_message;
  const { before, versions } = placeUser(v, msg);
  const kept = before.filter((m) => m.id !== msg.assistant_message_id);
  const assistant = emptyAnswer(v, msg, now);
  const turns = { ...v.turns, [msg.turn_id]: streamingTurn(msg, now) };
  // The answer is rebuilt from its events: nothing of it stays clipped.
  const clipped = Object.fromEntries(Object.entries(v.clipped).filter(([k]) => !k.startsWith(`${msg.assistant_message_id}:`)));
  return { ...v, messages: [...kept, assistant], turns, activeTurnId: msg.turn_id, clipped, versions, later: [] };
}

export function reduce(v: ChatView, ev: Event, now: number = Date.now()): ChatView {
  if (ev.session_id !== v.chatId || ev.seq <= v.lastSeq) return v;
  v = { ...v, lastSeq: ev.seq };
  const msg = ev.msg;
  switch (msg.type) {
    case "turn_started":
      return sideStarted(v, msg, now) ?? turnStarted(leaveSide(v, msg), msg, now);
    case "item_started":
    case "item_updated":
    case "item_completed":
      return trackCall(updateMessage(v, msg.message_id, (m) => setPart(m, msg.index, msg.part)), msg.part, now);
    case "text_delta":
    case "reasoning_delta":
      return updateMessage(v, msg.message_id, (m) => appendText(m, msg.index, msg.delta));
    case "arguments_delta":
      return updateMessage(v, msg.message_id, (m) => appendArguments(m, msg.index, msg.delta));
    case "context_trimmed": {
      const t = v.turns[msg.turn_id];
      if (!t) return v;
      return { ...v, turns: { ...v.turns, [msg.turn_id]: { ...t, contextFrom: msg.first_message_id, leftOut: msg.left_out } } };
    }
    case "stream_retry": {
      const id = v.activeTurnId;
      const t = id ? v.turns[id] : undefined;
      if (!id || !t) return v;
      const retry = { attempt: msg.attempt, delayMs: msg.delay_ms, reason: msg.reason.message, until: now + msg.delay_ms };
      return { ...v, turns: { ...v.turns, [id]: { ...t, retry } } };
    }
    case "approval_requested":
      return {
        ...v,
        approvals: {
          ...v.approvals,
          [msg.call_id]: { callId: msg.call_id, name: msg.name, arguments: msg.arguments, risk: msg.risk, reason: msg.reason, canGrant: msg.can_grant },
        },
      };
    case "question_asked":
      return { ...v, questions: { ...v.questions, [msg.call_id]: msg.question } };
    case "tool_progress":
      return { ...v, progress: { ...v.progress, [msg.call_id]: { progress: msg.progress ?? 0, total: msg.total ?? null, message: msg.message ?? null } } };
    case "turn_completed":
      return endTurn(v, msg.turn_id, { status: "completed", usage: msg.usage, stopReason: msg.stop_reason }, now);
    case "turn_stopped":
      return endTurn(v, msg.turn_id, { status: "stopped" }, now);
    case "turn_failed":
      return endTurn(v, msg.turn_id, { status: "failed", error: msg.error }, now);
    case "title_changed":
    case "queue_changed":
      // About the chat, not the transcript: the chat list and the queue's chips take them (App).
      return v;
  }
}

/** True for the event that ends a turn: the core's list (TURN_END_EVENTS in the bindings). */
export function isTurnEnd(msg: EventMsg): boolean {
  return (TURN_END_EVENTS as readonly string[]).includes(msg.type);
}

/**
 * Where the model's view of the chat begins, when its last answer was sent without the oldest
 * messages (they did not fit its context window): the message to mark, or null.
 */
export function contextStart(v: ChatView): { messageId: string; leftOut: number | null } | null {
  for (let i = v.messages.length - 1; i >= 0; i--) {
    const t = turnOf(v, v.messages[i]!);
    if (t) return t.contextFrom ? { messageId: t.contextFrom, leftOut: t.leftOut ?? null } : null;
  }
  return null;
}

/** The turn an assistant message belongs to. */
export function turnOf(v: ChatView, m: Message): TurnView | null {
  return m.turn_id ? (v.turns[m.turn_id] ?? null) : null;
}

/** True when the chat's last answer can be retried (it failed, stopped or was interrupted). */
export function canRetry(v: ChatView): boolean {
  const last = v.messages[v.messages.length - 1];
  if (!last || v.activeTurnId) return false;
  const t = turnOf(v, last);
  return !!t && (t.status === "failed" || t.status === "stopped" || t.status === "interrupted");
}
