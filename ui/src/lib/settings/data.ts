import type { ExportReport, ImportReport, RestoreReport } from "../../bindings";

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** What a restore added, as the person reads it. */
export function restoredText(r: RestoreReport): string {
  if (r.chats === 0 && r.messages === 0) return `Nothing to add from ${r.file}: every chat and message in it is already here.`;
  return `Added ${plural(r.chats, "chat")} and ${plural(r.messages, "message")} from ${r.file}. Nothing was removed.`;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** What an import would add (its preview) or added. */
export function importText(r: ImportReport): string {
  const file = `${plural(r.chats_in_file, "chat")} and ${plural(r.messages_in_file, "message")}${r.span ? `, ${day(r.span[0])} to ${day(r.span[1])}` : ""}`;
  if (r.dry_run) {
    if (r.chats_added === 0 && r.messages_added === 0) return `The file holds ${file}; all of it is already here.`;
    return `The file holds ${file}. Importing adds ${plural(r.chats_added, "chat")} and ${plural(r.messages_added, "message")}; nothing here changes.`;
  }
  return `Added ${plural(r.chats_added, "chat")} and ${plural(r.messages_added, "message")} (the file holds ${file}). Nothing was changed or removed.`;
}

/** Where chats were exported (`what`: "every chat", or a chat's title), and the chats an
 *  export of every chat left out because they could not be read, each named. */
export function exportedText(r: ExportReport, what = "every chat"): string {
  if (r.left_out.length === 0) return `Exported ${what} to ${r.file}.`;
  const n = r.left_out.length;
  const names = r.left_out.map((c) => `“${c.title || c.id}”`).join(", ");
  return `Exported the chats that could be read to ${r.file}. Left out ${plural(n, "chat")} that could not be read: ${names}.`;
}
