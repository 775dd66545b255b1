// Composer keyboard rules: Enter sends, Shift+Enter is a newline, Escape stops a running turn.
// While an answer streams, Enter queues the message and Ctrl+Enter (⌘+Enter) sends it now,
// steering the answer to an end. IME composition (Enter to confirm a candidate) never sends.
export type ComposerAction = "send" | "queue" | "steer" | "newline" | "stop" | null;

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  isComposing?: boolean;
}

export function composerAction(e: KeyLike, streaming: boolean): ComposerAction {
  if (e.isComposing) return null;
  if (e.key === "Escape") return streaming ? "stop" : null;
  if (e.key !== "Enter") return null;
  if (e.shiftKey) return "newline";
  if (!streaming) return "send";
  return e.ctrlKey || e.metaKey ? "steer" : "queue";
}

/** What may be sent: text that is not only whitespace, or attached files (with or without text). */
export function sendable(text: string, attachments = 0): boolean {
  return text.trim().length > 0 || attachments > 0;
}
