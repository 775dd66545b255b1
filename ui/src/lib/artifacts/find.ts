// The previewable blocks of answers — HTML, SVG (or XML holding an <svg>) and Mermaid fences —
// found by the markdown renderer's own lexer, so the window previews exactly the blocks it
// shows, with their text. (The core's `artifacts/blocks.rs` reads top-level fences the same way
// for `parley artifacts`.)
import { Lexer, type Token, type Tokens } from "marked";
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

/** The previewable blocks of a markdown text, in order — read by the renderer's own lexer, so
 * a block inside a list or a quote is found with the text it shows. */
export function blocks(markdown: string): { kind: ArtifactKind; source: string }[] {
  const out: { kind: ArtifactKind; source: string }[] = [];
  const walk = (tokens: readonly Token[]) => {
    for (const t of tokens) {
      if (t.type === "code") {
        const code = t as Tokens.Code;
        const lang = code.codeBlockStyle === "indented" ? "" : ((code.lang ?? "").trim().split(/\s+/)[0] ?? "");
        const kind = code.text.trim() ? previewKind(lang, code.text) : null;
        if (kind) out.push({ kind, source: code.text });
      }
      const inner = t as { tokens?: Token[]; items?: { tokens?: Token[] }[] };
      if (inner.tokens) walk(inner.tokens);
      for (const item of inner.items ?? []) if (item.tokens) walk(item.tokens);
    }
  };
  walk(Lexer.lex(markdown, { gfm: true }));
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
