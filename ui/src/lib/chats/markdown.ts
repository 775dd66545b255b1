// Markdown → safe HTML, the one path for streaming and for history. Model output is untrusted:
// marked renders, remend closes half-written syntax while streaming, DOMPurify sanitizes with a
// strict allow-list. No raw HTML survives, links keep only http(s)/mailto, and remote images are
// never loaded: they become a link the user can choose to open. Math is rendered by KaTeX once
// its block is finished (math.ts, sanitized with KaTeX's own profile); a ```mermaid block is
// marked for the diagram renderer (diagrams.ts), which draws it later, off this path.
import { Marked, type Tokens } from "marked";
import remend from "remend";
import DOMPurify from "dompurify";
import { mathExtension, pendingMath, renderMath } from "./math";
import { diagramSource } from "./diagrams";
import { previewKind } from "../artifacts/find";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdownLang from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = { bash, c, cpp, css, diff, go, java, javascript, json, markdown: markdownLang, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["js", "jsx"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["yml"], { languageName: "yaml" });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
}

let highlight = true;

/**
 * Formulas rendered during one `renderMarkdown`: each stands in the markdown's HTML as an empty
 * span naming its index and this page's nonce, and is put in after the markdown is sanitized
 * (KaTeX's output has its own sanitizer: the markdown's allow-list has no styles, no MathML).
 */
let formulas: string[] = [];
const NONCE = Math.random().toString(36).slice(2, 10);
const SLOT = new RegExp(`<span class="math-slot-${NONCE}-(\\d+)"></span>`, "g");

function mathSlot(tex: string, raw: string, display: boolean): string {
  // A block still being written shows its formulas as written; they render when it closes.
  if (!highlight) return pendingMath(raw, display);
  const i = formulas.push(renderMath(tex, raw, display)) - 1;
  return `<span class="math-slot-${NONCE}-${i}"></span>`;
}

const marked = new Marked(mathExtension(mathSlot), {
  gfm: true,
  breaks: false,
  renderer: {
    // Raw HTML from the model is shown as text, never interpreted.
    html(token: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(token.raw);
    },
    code(token: Tokens.Code) {
      const lang = (token.lang ?? "").trim().split(/\s+/)[0]!.toLowerCase();
      const known = lang && hljs.getLanguage(lang);
      // A block still being written is shown plain; it is highlighted once, when it closes.
      const body = known && highlight ? hljs.highlight(token.text, { language: lang, ignoreIllegals: true }).value : escapeHtml(token.text);
      const label = known ? escapeHtml(lang) : lang === "mermaid" ? "mermaid" : "text";
      // A finished mermaid block is drawn by diagrams.ts; until then, and if it fails, it is code.
      const diagram = highlight && lang === "mermaid" && diagramSource(token.text) ? " mermaid" : "";
      // A finished HTML, SVG or Mermaid block can be previewed (in a sandboxed frame: artifacts).
      const kind = highlight ? previewKind(lang, token.text) : null;
      const preview = kind ? `<button type="button" class="copy" data-preview="${kind}" title="Preview in a sandboxed panel">Preview</button>` : "";
      return `<div class="code-block${diagram}"><div class="code-head"><span>${label}</span>${preview}<button type="button" class="copy" data-copy>Copy</button></div><pre><code class="hljs">${body}</code></pre></div>`;
    },
    image(token: Tokens.Image) {
      // Never load a remote image without consent: show a link to it instead.
      const alt = escapeHtml(token.text || "image");
      return `<a href="${escapeHtml(token.href)}" class="image-link" title="Remote images are not loaded. Click to open it in your browser.">[image not loaded: ${alt}]</a>`;
    },
  },
});

const SAFE_URL = /^(?:https?:|mailto:)/i;

// The markdown's own sanitizer: hooks other libraries add to the shared instance (the diagram
// library adds some) never run here.
const purify = DOMPurify(window);

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_URL.test(href)) {
      node.removeAttribute("href");
      node.setAttribute("title", "Link removed: only web and e-mail links can be opened.");
    }
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const PURIFY = {
  ALLOWED_TAGS: [
    "a", "b", "blockquote", "br", "button", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "input", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "type", "checked", "disabled", "data-copy", "data-preview", "align"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  ALLOW_DATA_ATTR: false,
  // Other attributes with a value must read as an allowed address; a Preview button's kind is
  // a word (html, svg, mermaid), checked again where it is read.
  ADD_URI_SAFE_ATTR: ["data-preview"],
};

/** Renders model markdown to sanitized HTML. `streaming` closes unfinished syntax first. */
export function renderMarkdown(text: string, streaming = false): string {
  // Block math is not closed while streaming: a formula shows as written until its block ends.
  const source = streaming ? remend(text, { katex: false }) : text;
  highlight = !streaming;
  formulas = [];
  const html = marked.parse(source, { async: false }) as string;
  const clean = purify.sanitize(html, PURIFY) as string;
  if (!formulas.length) return clean;
  const done = formulas;
  formulas = [];
  return clean.replace(SLOT, (_, i: string) => done[Number(i)] ?? "");
}

/**
 * Warms the engine up in the background, one small render per task: the first renders run
 * cold code. Done once after loading, so the first answer a user opens does not pay for it in
 * one frame. (Code grammars compile on first use: warming all of them costs idle memory.)
 */
export function warmUp(): void {
  const samples = [
    "# Title\n\nSome **bold**, *emphasis*, `code` and a [link](https://example.com).\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "```text\nplain\n```\n",
    // KaTeX's first formula runs cold code too.
    "Inline $x^2$ and\n\n$$\n\\frac{a}{b} = \\sqrt{c}\n$$\n",
    // The grammars answers use most: compiling one costs several ms the first time it is used,
    // which would land in the frame that first shows such a code block. One per task.
    "```python\ndef f(x):\n    return x * 2  # c\n```\n",
    "```javascript\nconst f = (x) => x * 2; // c\n```\n",
    "```typescript\nconst f = (x: number): number => x * 2;\n```\n",
    "```bash\nls -la | grep x && echo \"$HOME\"\n```\n",
    "```rust\nfn f(x: u32) -> u32 {\n    x * 2\n}\n```\n",
    "```json\n{\"a\": [1, true, null]}\n```\n",
  ];
  const next = () => {
    const sample = samples.shift();
    if (sample === undefined) return;
    renderMarkdown(sample);
    setTimeout(next, 0);
  };
  setTimeout(next, 0);
}
