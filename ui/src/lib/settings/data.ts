import type { ExportReport, ImportAction, ImportProgress, ImportReport, RestoreReport } from "../../bindings";

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** What a restore added, as the person reads it. */
export function restoredText(r: RestoreReport): string {
  const { chats_added: chats, messages_added: messages } = r.report;
  const aside = r.report.set_aside.length ? ` ${plural(r.report.set_aside.length, "chat")} could not be taken (see Settings → Data).` : "";
  if (chats === 0 && messages === 0) return `Nothing to add from ${r.file}: every chat in it is already here.${aside}`;
  return `Added ${plural(chats, "chat")} and ${plural(messages, "message")} from ${r.file}. Nothing here was changed or removed.${aside}`;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** What an import would add (its preview) or added. */
export function importText(r: ImportReport): string {
  const file = `${plural(r.chats_in_file, "chat")} and ${plural(r.messages_in_file, "message")}${r.span ? `, ${day(r.span[0])} to ${day(r.span[1])}` : ""}`;
  if (r.dry_run) {
    if (r.chats_added === 0 && r.messages_added === 0) return `The file holds ${file}; nothing of it is new here.`;
    return `The file holds ${file}. Importing adds ${plural(r.chats_added, "chat")} and ${plural(r.messages_added, "message")}; no chat here changes.`;
  }
  return `Added ${plural(r.chats_added, "chat")} and ${plural(r.messages_added, "message")} (the file holds ${file}). No chat here was changed.`;
}

/** Each action's words, for every action the core can report. */
export const IMPORT_ACTIONS: Record<ImportAction, string> = {
  added: "new",
  added_as_copy: "new copy — its ids are taken here by other content or not Parley's",
  already_here: "already here",
};

/** What comes in inactive or is kept apart, as sentences (empty when nothing does). */
export function importNotes(r: ImportReport): string[] {
  const out: string[] = [];
  if (r.system_prompts_inactive > 0)
    out.push(`${plural(r.system_prompts_inactive, "system prompt")} from the file ${r.system_prompts_inactive === 1 ? "is" : "are"} kept inactive: the chat shows it, and it is used only once you turn it on there.`);
  if (r.settings_removed > 0)
    out.push(`The workspace, tools or assistant named for ${plural(r.settings_removed, "chat")} ${r.settings_removed === 1 ? "is" : "are"} left out: imported chats run no tools until you choose a workspace.`);
  if (r.usage_imported > 0)
    out.push(`Usage reported for ${plural(r.usage_imported, "answer")} is kept as imported, apart from your own and out of costs (Settings → Usage can include it).`);
  if (r.usage_dropped > 0) out.push(`Implausible usage figures are left out for ${plural(r.usage_dropped, "answer")}.`);
  return out;
}

/** Where chats were exported (`what`: "every chat", or a chat's title), and the chats an
 *  export of every chat left out because they could not be read, each named. */
export function exportedText(r: ExportReport, what = "every chat"): string {
  if (r.left_out.length === 0) return `Exported ${what} to ${r.file}.`;
  const n = r.left_out.length;
  const names = r.left_out.map((c) => `“${c.title || c.id}”`).join(", ");
  return `Exported the chats that could be read to ${r.file}. Left out ${plural(n, "chat")} that could not be read: ${names}.`;
}

const mb = (b: number) => (b / (1024 * 1024)).toFixed(1);

/** How far an import (`preview`: its preview) has got, as the person reads it. */
export function progressText(p: ImportProgress, preview: boolean): string {
  if (p.merging) return `Read ${plural(p.chats, "chat")}; ${preview ? "counting what is new" : "adding what is new"}…`;
  const pct = p.bytes_total > 0 ? Math.min(100, Math.floor((p.bytes_read / p.bytes_total) * 100)) : 0;
  return `Reading the file: ${mb(p.bytes_read)} of ${mb(p.bytes_total)} MB (${pct}%), ${plural(p.chats, "chat")} so far…`;
}
