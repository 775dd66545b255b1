// Keyboard shortcuts: one table for the handler and the sheet (Ctrl/⌘+/), following each OS's
// conventions: ⌘ on macOS where Windows and Linux use Ctrl.

export type ShortcutId = "search" | "new-chat" | "edit-last" | "regenerate" | "copy-last" | "next-chat" | "previous-chat" | "stop" | "shortcuts";

export interface Shortcut {
  id: ShortcutId;
  what: string;
  /** The keys as the sheet shows them on this OS. */
  keys: (mac: boolean) => string;
}

export const isMac = (platform: string = typeof navigator === "undefined" ? "" : navigator.platform): boolean => /Mac|iPhone|iPad/.test(platform);

const mod = (mac: boolean) => (mac ? "⌘" : "Ctrl+");
const shift = (mac: boolean) => (mac ? "⇧" : "Shift+");

export const SHORTCUTS: Shortcut[] = [
  { id: "search", what: "Search chats and messages, run a command", keys: (m) => `${mod(m)}K` },
  { id: "new-chat", what: "New chat", keys: (m) => `${mod(m)}N` },
  { id: "edit-last", what: "Edit your last message", keys: () => "↑ in an empty message box" },
  { id: "regenerate", what: "Regenerate the last answer", keys: (m) => `${mod(m)}${shift(m)}R` },
  { id: "copy-last", what: "Copy the last answer (markdown)", keys: (m) => `${mod(m)}${shift(m)}C` },
  { id: "next-chat", what: "Next chat in the list", keys: (m) => (m ? "⌃Tab" : "Ctrl+Tab") },
  { id: "previous-chat", what: "Previous chat in the list", keys: (m) => (m ? "⌃⇧Tab" : "Ctrl+Shift+Tab") },
  { id: "stop", what: "Stop the answer being written", keys: () => "Esc" },
  { id: "shortcuts", what: "Show these shortcuts", keys: (m) => `${mod(m)}/` },
];

export interface KeyEventLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** The window-wide shortcut a key press is, if any (↑ and Esc belong to the message box). */
export function shortcutOf(e: KeyEventLike, mac: boolean): ShortcutId | null {
  const primary = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.ctrlKey && !e.metaKey && !e.altKey && key === "Tab") return e.shiftKey ? "previous-chat" : "next-chat";
  if (!primary || e.altKey) return null;
  if (!e.shiftKey && key === "n") return "new-chat";
  if (!e.shiftKey && key === "k") return "search";
  if (key === "/" || e.code === "Slash") return "shortcuts";
  if (e.shiftKey && key === "r") return "regenerate";
  if (e.shiftKey && key === "c") return "copy-last";
  return null;
}
