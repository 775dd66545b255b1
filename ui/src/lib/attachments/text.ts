// A document's text as the window shows it: a card's few first lines, its language, and the
// viewer's text in pieces (a whole 16 MB log in one <pre> would freeze the window).

const LANGUAGES: Record<string, string> = {
  pdf: "PDF",
  txt: "Text",
  md: "Markdown",
  markdown: "Markdown",
  rs: "Rust",
  py: "Python",
  js: "JavaScript",
  mjs: "JavaScript",
  jsx: "JavaScript",
  ts: "TypeScript",
  tsx: "TypeScript",
  go: "Go",
  java: "Java",
  kt: "Kotlin",
  c: "C",
  h: "C",
  cpp: "C++",
  cc: "C++",
  hpp: "C++",
  cs: "C#",
  rb: "Ruby",
  php: "PHP",
  swift: "Swift",
  sh: "Shell",
  bash: "Shell",
  zsh: "Shell",
  sql: "SQL",
  json: "JSON",
  yaml: "YAML",
  yml: "YAML",
  toml: "TOML",
  xml: "XML",
  html: "HTML",
  css: "CSS",
  csv: "CSV",
  log: "Log",
  svelte: "Svelte",
};

/** The kind of document a file part is, for its card: from its name's extension, else its
 *  MIME type, else "Text". */
export function languageOf(name: string, mime: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : "";
  if (Object.hasOwn(LANGUAGES, ext)) return LANGUAGES[ext]!;
  if (mime === "application/pdf") return "PDF";
  return "Text";
}

/** The first `lines` non-empty lines of `text`, each at most `width` characters (a card's
 *  preview); read from the start only, whatever the text's length. */
export function firstLines(text: string, lines = 3, width = 120): string[] {
  const out: string[] = [];
  let at = 0;
  while (out.length < lines && at < text.length && at < 64 * 1024) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const line = text.slice(at, Math.min(end, at + width * 2)).trimEnd();
    if (line.trim()) out.push([...line].length > width ? `${[...line].slice(0, width).join("")}…` : line);
    at = end + 1;
  }
  return out;
}

/** How much of a document the viewer shows at first and adds per "Show more". */
export const VIEW_STEP = 200_000;

/** The part of `text` the viewer shows when `shown` characters are asked for, cut at a line
 *  end when one is near, and how many characters are left after it. */
export function viewSlice(text: string, shown: number): { text: string; rest: number } {
  if (text.length <= shown) return { text, rest: 0 };
  const nl = text.lastIndexOf("\n", shown);
  const end = nl > shown - 2000 ? nl + 1 : shown;
  return { text: text.slice(0, end), rest: text.length - end };
}

/** "3 pages · 12,345 characters": what a document's text holds (page markers "--- Page N ---"
 *  counted when there are any). */
export function textSummary(text: string, fullLength?: number): string {
  const pages = (text.match(/^--- Page \d+ ---$/gm) ?? []).length;
  const chars = `${(fullLength ?? text.length).toLocaleString("en-US")} characters`;
  return pages ? `${pages} ${pages === 1 ? "page" : "pages"} · ${chars}` : chars;
}

/** The size an image is shown at in the transcript: its own, made to fit `maxW` × `maxH`
 *  keeping its aspect ratio; a 4:3 box of `maxW` when its size is unknown. Known before it
 *  loads, so the row does not change height when it does. */
export function fitImage(width: number | undefined, height: number | undefined, maxW = 320, maxH = 240): { width: number; height: number } {
  const w = width && width > 0 ? width : 0;
  const h = height && height > 0 ? height : 0;
  if (!w || !h) return { width: maxW, height: Math.round((maxW * 3) / 4) };
  const scale = Math.min(1, maxW / w, maxH / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}
