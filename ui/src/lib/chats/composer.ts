// Composer keyboard rules: Enter sends, Shift+Enter is a newline, Escape stops a running turn.
// IME composition (Enter to confirm a candidate) never sends.
export type ComposerAction = "send" | "newline" | "stop" | null;

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  isComposing?: boolean;
}

export function composerAction(e: KeyLike, streaming: boolean): ComposerAction {
  if (e.isComposing) return null;
  if (e.key === "Escape") return streaming ? "stop" : null;
  if (e.key !== "Enter") return null;
  if (e.shiftKey) return "newline";
  return streaming ? null : "send";
}

/** What may be sent: text that is not only whitespace, or attached files (with or without text). */
export function sendable(text: string, attachments = 0): boolean {
  return text.trim().length > 0 || attachments > 0;
}
