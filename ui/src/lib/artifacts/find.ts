// The previewable blocks of answers — HTML, SVG (or XML holding an <svg>) and Mermaid fences —
// found the way the markdown renderer sees fences (the core's `artifacts/blocks.rs` reads them
// the same way for `parley artifacts`): ``` or ~~~ at most three spaces in, closed by a fence of
// the same character at least as long with nothing after it, or by the end of the text.
import type { ArtifactKind, Message } from "../types";

export interface Artifact {
  kind: ArtifactKind;
  source: string;
  /** The answer it is in. */
  messageId: string;
}

/** The kind of a fenced block with this language and text, if it can be previewed. */
export function previewKind(lang: string, text: string): ArtifactKind | null {
  switch (lang.toLowerCase()) {
    case "html":
    case "htm":
    case "xhtml":
      return "html";
    case "svg":
      return "svg";
    case "mermaid":
      return "mermaid";
    case "xml":
      return holdsSvg(text) ? "svg" : null;
    default:
      return null;
  }
}

function holdsSvg(text: string): boolean {
  let t = text.trimStart();
  if (t.startsWith("<?xml")) t = (t.split("?>").slice(1).join("?>") ?? "").trimStart();
  while (t.startsWith("<!--")) {
    const end = t.indexOf("-->");
    t = end < 0 ? "" : t.slice(end + 3).trimStart();
  }
  return t.slice(0, 4).toLowerCase() === "<svg";
}

function fence(line: string): { c: string; n: number; info: string } | null {
  const m = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(line);
  if (!m) return null;
  const [c, n, info] = [m[2]![0]!, m[2]!.length, m[3]!];
  if (c === "`" && info.includes("`")) return null;
  return { c, n, info: info.trim() };
}

/** The previewable blocks of a markdown text, in order. */
export function blocks(markdown: string): { kind: ArtifactKind; source: string }[] {
  const out: { kind: ArtifactKind; source: string }[] = [];
  let open: { c: string; n: number; info: string; body: string[] } | null = null;
  const push = (o: NonNullable<typeof open>) => {
    const source = o.body.join("\n");
    const kind = source.trim() ? previewKind(o.info.split(/\s+/)[0] ?? "", source) : null;
    if (kind) out.push({ kind, source });
  };
  for (const line of markdown.split(/\r?\n/)) {
    const f = fence(line);
    if (!open) {
      if (f) open = { ...f, body: [] };
    } else if (f && f.c === open.c && f.n >= open.n && f.info === "") {
      push(open);
      open = null;
    } else {
      open.body.push(line);
    }
  }
  if (open) push(open);
  return out;
}

/** Every previewable block of the answers shown, in order. */
export function artifactsOf(messages: readonly Message[]): Artifact[] {
  const out: Artifact[] = [];
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    for (const p of m.parts) {
      if (p.type !== "text") continue;
      for (const b of blocks(p.text)) out.push({ ...b, messageId: m.id });
    }
  }
  return out;
}
