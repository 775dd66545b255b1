import type { RestoreReport } from "../../bindings";

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** What a restore added, as the person reads it. */
export function restoredText(r: RestoreReport): string {
  if (r.chats === 0 && r.messages === 0) return `Nothing to add from ${r.file}: every chat and message in it is already here.`;
  return `Added ${plural(r.chats, "chat")} and ${plural(r.messages, "message")} from ${r.file}. Nothing was removed.`;
}
