// Math in answers: `$…$`, `\(…\)` inline, `$$…$$`, `\[…\]` displayed, found by marked extensions
// and rendered by KaTeX in its safe mode. Model output is untrusted, so KaTeX runs with trust
// off (no \href, \url, \includegraphics, \html…), with the HTML extensions refused outright,
// bounded macro expansion (a \def loop stops) and bounded sizes (a huge \rule is capped), and
// its output goes through a sanitizer of its own that lets through only what KaTeX writes: its
// spans, MathML, the SVG of stretchy symbols and inline styles with KaTeX's own properties and
// plain values. A formula that does not parse, or is too long, shows as its source, escaped.
//
// Dollars are math only where they read like it (the rules of pandoc's tex_math_dollars, made
// a little stricter): the opening `$` is followed by a non-space, the closing one follows a
// non-space and is not followed by a letter or digit, and no `$` nor backtick lies between.
// So "$5 and $10", "costs $3.50, or $4" and "$HOME/$USER" stay text. Code is never math.
import katex from "katex";
import "katex/dist/katex.min.css";
import DOMPurify from "dompurify";
import type { MarkedExtension, Tokens } from "marked";

/** Formulas longer than this show as their source (a 100 KB formula would hold the frame). */
export const MAX_FORMULA = 8_000;

/**
 * Formulas nested deeper than this show as their source: KaTeX parses by recursion (a few
 * thousand braces overflow the stack) and the sanitizer's cost grows with the depth.
 */
export const MAX_DEPTH = 40;

/**
 * Commands that define macros. A definition is short, but each use may expand to thousands of
 * tokens, and KaTeX's time grows much faster than its output: a 1,600-character formula of a
 * 1,500-letter macro used 60 times took 5 s, a 7,500-character one did not end in 10 minutes —
 * on the window's only thread, again on every reload. So a formula that defines anything shows
 * as its source; answers do not need their own macros.
 */
const DEFINES = /\\(?:[egx]?def|let|futurelet|(?:re)?newcommand|providecommand|newenvironment|renewenvironment|DeclareMathOperator|global|expandafter|csname)(?![a-zA-Z])/;

/** Cells and rows a formula may have: each costs layout, a 3,900-cell matrix took 0.4 s. */
export const MAX_CELLS = 600;

/** Why `tex` is shown as its source without being parsed, or null to render it. */
export function refusal(tex: string): string | null {
  if (tex.length > MAX_FORMULA) return "This formula is too long to be shown as math.";
  if (nesting(tex) > MAX_DEPTH) return "This formula is nested too deeply to be shown as math.";
  if (DEFINES.test(tex)) return "This formula defines its own commands, which Parley does not run.";
  if ((tex.match(/&|\\\\/g)?.length ?? 0) > MAX_CELLS) return "This formula has too many cells to be shown as math.";
  return null;
}

/** How deep groups nest in `tex`: braces, \left…\right, \begin…\end. */
export function nesting(tex: string): number {
  let depth = 0;
  let max = 0;
  const re = /\\(?:left|begin)(?![a-zA-Z])|\\(?:right|end)(?![a-zA-Z])|\\.|[{}]/g;
  for (let m = re.exec(tex); m; m = re.exec(tex)) {
    const t = m[0];
    if (t === "{" || t === "\\left" || t === "\\begin") max = Math.max(max, ++depth);
    else if (t === "}" || t === "\\right" || t === "\\end") depth = Math.max(0, depth - 1);
  }
  return max;
}

/** KaTeX's options: its safe mode. */
export const KATEX_OPTIONS = {
  throwOnError: true,
  trust: false,
  // The HTML extensions (\htmlClass, \htmlId, \htmlStyle, \htmlData) are refused even before
  // trust is asked; LaTeX-faithfulness remarks (unicode letters in math…) are not errors.
  strict: (code: string) => (code === "htmlExtension" ? "error" : "ignore"),
  maxExpand: 500,
  maxSize: 20,
  output: "htmlAndMathml",
} as const;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

// A sanitizer instance of its own: its hooks and its profile are KaTeX's, and nothing else
// (another library adding or removing hooks on the shared instance) can change them.
const purify = DOMPurify(window);

const MATHML = [
  "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
  "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
  "mlabeledtr", "mstyle", "mpadded", "mphantom", "menclose", "merror",
];
const KATEX_PROFILE = {
  ALLOWED_TAGS: ["span", "svg", "path", "line", "rect", "g", ...MATHML],
  ALLOWED_ATTR: [
    "class", "style", "aria-hidden", "xmlns", "width", "height", "viewbox", "viewBox", "preserveaspectratio",
    "preserveAspectRatio", "d", "x", "y", "x1", "x2", "y1", "y2", "stroke-width", "encoding", "mathvariant",
    "stretchy", "fence", "separator", "lspace", "rspace", "minsize", "maxsize", "accent", "accentunder",
    "columnalign", "rowspacing", "columnspacing", "rowlines", "columnlines", "depth", "voffset", "scriptlevel",
    "displaystyle", "notation", "linethickness", "display", "movablelimits", "symmetric", "largeop", "form",
    "mathcolor", "mathbackground", "align",
  ],
  ALLOW_DATA_ATTR: false,
  // No attribute takes an address (no value may start with a scheme): nothing navigates or loads.
  ALLOWED_URI_REGEXP: /^(?![a-z][a-z0-9+.-]*:)/i,
};

/** The inline style properties KaTeX writes (katex/src/domTree.ts, CssStyle). */
const STYLE_PROPS = new Set([
  "background-color", "border-bottom-width", "border-color", "border-right-style", "border-right-width",
  "border-top-width", "border-style", "border-width", "bottom", "color", "height", "left", "margin",
  "margin-left", "margin-right", "margin-top", "min-width", "padding-left", "position", "text-shadow", "top",
  "width", "vertical-align",
]);
/** A value KaTeX writes: lengths, numbers, colour names and #hex, keywords. Nothing that loads. */
const STYLE_VALUE = /^[-+\w.#% ]*$/;

/** An inline style kept to KaTeX's properties with plain values ("" when nothing is left). */
export function cleanStyle(style: string): string {
  return style
    .split(";")
    .map((d) => {
      const at = d.indexOf(":");
      if (at < 0) return "";
      const prop = d.slice(0, at).trim().toLowerCase();
      const value = d.slice(at + 1).trim();
      // KaTeX positions only relatively; anything else could lay a formula over the window.
      const ok = STYLE_PROPS.has(prop) && STYLE_VALUE.test(value) && (prop !== "position" || value === "relative");
      return ok ? `${prop}:${value}` : "";
    })
    .filter((d) => d !== "")
    .join(";");
}

purify.addHook("uponSanitizeAttribute", (_node, data) => {
  if (data.attrName !== "style") return;
  data.attrValue = cleanStyle(data.attrValue);
  if (!data.attrValue) data.keepAttr = false;
});

/** KaTeX's output, sanitized with KaTeX's profile. */
export function sanitizeKatex(html: string): string {
  return purify.sanitize(html, KATEX_PROFILE) as string;
}

/** Rendered formulas by source: a block rendered again (the end of a stream) reuses them. */
const rendered = new Map<string, string>();
const RENDERED_MAX = 500;

/** A formula that is not rendered: its source as written, escaped, with why. */
function source(raw: string, why: string, display: boolean): string {
  const cls = display ? "math-source math-display" : "math-source";
  return `<span class="${cls}" title="${escapeHtml(why)}">${escapeHtml(raw)}</span>`;
}

/**
 * One formula as safe HTML. `raw` is the formula with its delimiters (shown when it is not
 * rendered), `tex` what lies between them.
 */
export function renderMath(tex: string, raw: string, display: boolean): string {
  const refused = refusal(tex);
  if (refused) return source(raw, refused, display);
  const key = `${display ? "D" : "I"}${tex}`;
  const hit = rendered.get(key);
  if (hit !== undefined) return hit;
  let html: string;
  try {
    const out = katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display, macros: {} });
    html = display ? `<span class="math-display">${sanitizeKatex(out)}</span>` : sanitizeKatex(out);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return source(raw, `This formula could not be shown as math: ${message}`, display);
  }
  if (rendered.size >= RENDERED_MAX) rendered.delete(rendered.keys().next().value!);
  rendered.set(key, html);
  return html;
}

/** A formula while its block is still being written: its source, as written. */
export function pendingMath(raw: string, display: boolean): string {
  return `<span class="${display ? "math-pending math-display" : "math-pending"}">${escapeHtml(raw)}</span>`;
}

type MathToken = Tokens.Generic & { type: "math"; raw: string; tex: string; display: boolean };

/** Where a display formula's opening delimiter starts a line in `src`, or undefined. */
function blockStart(src: string): number | undefined {
  // marked passes the text after the block's first character: only a newline starts a line.
  const m = /\n {0,3}(?:\$\$|\\\[)/.exec(src);
  return m ? m.index + m[0].length - 2 : undefined;
}

/** A display formula that fills its own lines: `$$ … $$` or `\[ … \]` alone. */
function blockMath(src: string): MathToken | undefined {
  const m = /^ {0,3}(?:\$\$(?!\$)([\s\S]+?)(?<!\$)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
  if (!m) return undefined;
  const tex = (m[1] ?? m[2]!).trim();
  if (!tex) return undefined;
  return { type: "math", raw: m[0], tex, display: true };
}

/** Where an inline formula may start in `src` (a `$` not after a letter, digit or backslash, `\(`, `\[`). */
function inlineStart(src: string): number | undefined {
  const re = /\\[([]|\$/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (m[0] !== "$") return m.index;
    const before = m.index > 0 ? src[m.index - 1]! : "";
    if (!/[\p{L}\p{N}\\$]/u.test(before)) return m.index;
  }
  return undefined;
}

/** The end (exclusive) of `$…$` starting at 0 in `src` by the rules above, or -1. */
function dollarEnd(src: string): number {
  if (!/^\$[^\s$]/.test(src)) return -1;
  for (let i = 1; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "`") return -1;
    if (ch !== "$") continue;
    // The first `$` decides: it closes, or this is not math.
    const closes = !/\s/.test(src[i - 1]!) && !/[\p{L}\p{N}]/u.test(src[i + 1] ?? "");
    return closes ? i + 1 : -1;
  }
  return -1;
}

/** An inline formula at the start of `src`. */
function inlineMath(src: string): MathToken | undefined {
  let m = /^\\\(([\s\S]+?)\\\)/.exec(src);
  if (m) return { type: "math", raw: m[0], tex: m[1]!.trim(), display: false };
  m = /^\\\[([\s\S]+?)\\\]/.exec(src) ?? /^\$\$(?!\$)([\s\S]+?)(?<!\$)\$\$(?!\$)/.exec(src);
  if (m) return m[1]!.trim() ? { type: "math", raw: m[0], tex: m[1]!.trim(), display: true } : undefined;
  const end = dollarEnd(src);
  if (end < 0) return undefined;
  return { type: "math", raw: src.slice(0, end), tex: src.slice(1, end - 1), display: false };
}

/**
 * The marked extension. `render(tex, raw, display)` makes a formula's HTML: the renderer
 * decides whether a block is final (KaTeX) or still streaming (its source).
 */
export function mathExtension(render: (tex: string, raw: string, display: boolean) => string): MarkedExtension {
  return {
    extensions: [
      {
        name: "mathBlock",
        level: "block",
        start: blockStart,
        tokenizer: (src: string) => blockMath(src),
        renderer: (token) => render((token as MathToken).tex, (token as MathToken).raw.trim(), true),
      },
      {
        name: "math",
        level: "inline",
        start: inlineStart,
        tokenizer: (src: string) => inlineMath(src),
        renderer: (token) => render((token as MathToken).tex, (token as MathToken).raw, (token as MathToken).display),
      },
    ],
  };
}
