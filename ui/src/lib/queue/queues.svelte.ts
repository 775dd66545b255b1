// Each chat's queue as the window knows it: loaded when the chat is shown, replaced whole by
// every `queue_changed` event (the core sends the queue with each change, and why it waits when
// it does), so the chips never drift from the database.
import { api } from "../api";
import { visible } from "../approvals/visible";
import type { QueueState, QueuedMessage } from "../types";

export interface ChatQueue {
  items: QueuedMessage[];
  /** Why the messages wait instead of going when the answer ends, if they do. */
  held: string | null;
}

const EMPTY: ChatQueue = { items: [], held: null };

let byChat = $state<Record<string, ChatQueue>>({});

/** The chat's queue as last heard. */
export function queueOf(chatId: string): ChatQueue {
  return byChat[chatId] ?? EMPTY;
}

/** The core's word on a chat's queue (an event, or a command's answer). */
export function queueChanged(chatId: string, items: QueuedMessage[], held: string | null = null) {
  byChat = { ...byChat, [chatId]: { items, held } };
}

/** The core's answer to a command on a chat's queue. */
export function queueState(chatId: string, state: QueueState) {
  queueChanged(chatId, state.queued, state.held);
}

/** Reads the chat's queue, and why it waits, from the core (when the chat is shown). */
export async function loadQueue(chatId: string): Promise<void> {
  queueState(chatId, await api.listQueued(chatId));
}

/** A queued message's text on one line, for its chip: hidden characters marked, cut whole. */
export function chipText(text: string, max = 80): string {
  const chars = Array.from(visible(text.replace(/\s+/g, " ").trim()));
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
}
