import type { ImportProgress, ImportReport, RestoreReport } from "../../bindings";

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

const mb = (b: number) => (b / (1024 * 1024)).toFixed(1);

/** How far an import (`preview`: its preview) has got, as the person reads it. */
export function progressText(p: ImportProgress, preview: boolean): string {
  if (p.merging) return `Read ${plural(p.chats, "chat")}; ${preview ? "counting what is new" : "adding what is new"}…`;
  const pct = p.bytes_total > 0 ? Math.min(100, Math.floor((p.bytes_read / p.bytes_total) * 100)) : 0;
  return `Reading the file: ${mb(p.bytes_read)} of ${mb(p.bytes_total)} MB (${pct}%), ${plural(p.chats, "chat")} so far…`;
}
