// Drawing one mermaid diagram, safely; loaded on first use (mermaid is megabytes). The source is
// untrusted model output: mermaid runs at its strict security level (no click handlers, no
// scripts, labels as SVG text, not HTML), init directives are removed and every setting that
// matters is locked against the ones a diagram may carry, and the SVG it writes goes through a
// sanitizer of its own with the SVG profile: no scripts, event handlers, foreign content, links,
// images or <use>, no address other than the picture's own #fragments, and its <style> kept
// only when every rule is scoped to the picture's id.
import mermaid from "mermaid";
import DOMPurify from "dompurify";
import type { Theme } from "./diagrams";

/** Settings a diagram's own configuration (front matter) may not change. */
const LOCKED = [
  "secure", "securityLevel", "startOnLoad", "maxTextSize", "maxEdges", "htmlLabels", "flowchart", "theme",
  "themeVariables", "themeCSS", "fontFamily", "altFontFamily", "dompurifyConfig", "darkMode", "look",
  "layout", "suppressErrorRendering", "deterministicIds", "deterministicIDSeed", "markdownAutoWrap",
  "arrowMarkerAbsolute", "legacyMathML", "forceLegacyMathML", "elk", "class", "state", "er", "sequence",
];

export function mermaidConfig(theme: Theme) {
  return {
    startOnLoad: false,
    securityLevel: "strict" as const,
    htmlLabels: false,
    flowchart: { htmlLabels: false },
    theme: theme === "dark" ? ("dark" as const) : ("default" as const),
    fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif",
    maxTextSize: 20_000,
    maxEdges: 500,
    suppressErrorRendering: true,
    secure: LOCKED,
  };
}

// The diagrams' own sanitizer instance (mermaid adds hooks to the shared one).
const purify = DOMPurify(window);

const SVG_PROFILE = {
  USE_PROFILES: { svg: true },
  ADD_TAGS: ["style"],
  FORBID_TAGS: [
    "foreignObject", "foreignobject", "script", "a", "image", "use", "iframe", "animate", "set", "animateMotion",
    "animateTransform", "feImage", "mpath",
  ],
  FORBID_ATTR: ["href", "xlink:href", "src", "action", "formaction"],
  ADD_FORBID_CONTENTS: ["foreignObject", "foreignobject"],
  ALLOW_DATA_ATTR: false,
  // No value may start with a scheme (javascript:, data:, https:): nothing navigates or loads.
  ALLOWED_URI_REGEXP: /^(?![a-z][a-z0-9+.-]*:)/i,
};

/** A value that loads or runs something: an address other than a #fragment, an import, script. */
const LOADS = /url\(\s*(?!['"]?#)|@import|expression\s*\(|javascript:|-moz-binding|behavior\s*:/i;

purify.addHook("uponSanitizeAttribute", (_node, data) => {
  if (LOADS.test(data.attrValue)) data.keepAttr = false;
});

/**
 * Whether every rule of `css` applies inside the picture `#id` only (and loads nothing): what
 * mermaid writes (its styles are scoped by the picture's id), and nothing that could restyle
 * the window around it.
 */
export function scopedCss(css: string, id: string): boolean {
  if (!/^[\w-]+$/.test(id) || LOADS.test(css) || css.includes("\\") || css.includes("<")) return false;
  const plain = css.replace(/"[^"\n]*"|'[^'\n]*'/g, "_");
  if (/["']/.test(plain)) return false;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < plain.length; i++) {
    const ch = plain[i];
    if (ch === "{") {
      if (depth === 0 && !scopedSelector(plain.slice(start, i).trim(), id)) return false;
      depth++;
    } else if (ch === "}") {
      depth--;
      if (depth < 0) return false;
      if (depth === 0) start = i + 1;
    }
  }
  return depth === 0 && plain.slice(start).trim() === "";
}

function scopedSelector(selector: string, id: string): boolean {
  if (/^@keyframes\s+[\w-]+$/.test(selector)) return true;
  const own = new RegExp(`^#${id}(?![\\w-])`);
  return selector.split(",").every((s) => own.test(s.trim()));
}

/** Mermaid's SVG made inert; "" when it is not one picture. */
export function sanitizeSvg(svg: string): string {
  // A node with a link is drawn inside an <a> that also places it (its transform): the link
  // becomes a plain group, so the node stays where it was drawn and nothing is clickable.
  // (Serialized markup: a "<a" in text is "&lt;a"; <animate> has no word boundary after "a".)
  const unlinked = svg.replace(/<a\b/g, "<g").replace(/<\/a>/g, "</g>");
  const frag = purify.sanitize(unlinked, { ...SVG_PROFILE, RETURN_DOM_FRAGMENT: true }) as DocumentFragment;
  const pictures = [...frag.children];
  const picture = pictures[0];
  if (pictures.length !== 1 || !picture || picture.tagName.toLowerCase() !== "svg") return "";
  const id = picture.getAttribute("id") ?? "";
  for (const style of picture.querySelectorAll("style")) {
    if (!scopedCss(style.textContent ?? "", id)) style.remove();
  }
  return picture.outerHTML;
}

/** Directives (`%%{init: …}%%`) only configure; they are taken out before drawing. */
export function withoutDirectives(code: string): string {
  return code.replace(/%%\{[\s\S]*?\}%%/g, "");
}

let drawn = 0;

/** One diagram as a sanitized SVG; throws with mermaid's message when it cannot be drawn. */
export async function drawDiagram(code: string, theme: Theme): Promise<string> {
  mermaid.initialize(mermaidConfig(theme));
  const { svg } = await mermaid.render(`parley-diagram-${++drawn}`, withoutDirectives(code));
  const clean = sanitizeSvg(svg);
  if (!clean) throw new Error("the drawing was not a picture");
  return clean;
}
