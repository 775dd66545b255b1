// Copying a message: as the markdown the model wrote, or as plain text (the markup taken out,
// what a reader sees), and the clipboard itself.
import type { Message } from "../types";

/** A message's text as markdown: its text parts, in order (reasoning and tool calls left out). */
export function messageMarkdown(m: Message): string {
  return m.parts
    .map((p) => (p.type === "text" ? p.text : ""))
    .filter((t) => t.length > 0)
    .join("\n\n");
}

/**
 * Markdown as plain text: fences, emphasis, headings' #, quote markers, link and image syntax
 * taken out (a link keeps its text and address); code, lists and line breaks kept.
 */
export function plainText(md: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of md.split("\n")) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1]!.slice(0, 3);
      else if (f[1]!.startsWith(fence)) fence = null;
      continue;
    }
    if (fence !== null) {
      out.push(line);
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) continue; // a rule
    let t = line
      .replace(/^\s{0,3}#{1,6}\s+/, "")
      .replace(/^\s{0,3}(>\s?)+/, "")
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (_, text: string, url: string) => (text === url ? url : `${text} (${url})`))
      .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, "$2")
      .replace(/(^|[^\w*])([*_])(?=\S)(.+?)(?<=\S)\2(?!\w)/g, "$1$3")
      .replace(/~~(.+?)~~/g, "$1")
      .replace(/`([^`]+)`/g, "$1");
    // Table separators go; table rows keep their cells, tab-separated.
    if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(t)) continue;
    if (/^\s*\|.*\|\s*$/.test(t)) {
      t = t
        .trim()
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim())
        .join("\t");
    }
    out.push(t);
  }
  return out.join("\n");
}

/** How long the async Clipboard API may take before the copy command is tried instead. */
export const CLIPBOARD_WAIT_MS = 1000;

/**
 * Puts `text` on the clipboard. The async Clipboard API first; where the webview refuses it,
 * or leaves its promise pending (WebKitGTK can, with no clipboard owner to answer), the older
 * copy command on a hidden field — so a copy always ends, with a result or a sentence.
 */
export async function copyText(text: string, waitMs = CLIPBOARD_WAIT_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), waitMs)));
  try {
    const done = await Promise.race([navigator.clipboard.writeText(text).then(() => "done" as const), late]);
    if (done === "done") return;
  } catch {
    // Fall through to the copy command.
  } finally {
    clearTimeout(timer);
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("The clipboard is not available.");
}
