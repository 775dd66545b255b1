// The markdown engine (marked, highlight.js with its grammars, DOMPurify) is most of the UI's
// code. It loads as its own chunk right after the first paint, so starting the app does not
// wait for it to be parsed; a message shown before it arrives stays plain text until then.
import type { Render } from "./blocks";

let engine: Render | null = null;
let loading: Promise<Render> | null = null;

/** The engine when it has loaded, else null. */
export function markdownEngine(): Render | null {
  return engine;
}

/** Loads the engine (once) and warms it up. */
export function loadMarkdown(): Promise<Render> {
  loading ??= import("./markdown").then((m) => {
    engine = m.renderMarkdown;
    m.warmUp();
    return engine;
  });
  return loading;
}

let fontsWarm = false;

/**
 * Lays out, off screen and once, text in the faces answers use (bold, italic, headings, code):
 * finding and loading a face the first time costs tens of ms, which would otherwise land in
 * the frame that first shows such an answer. Called when a chat opens (while its history is
 * fetched), not at start: a window that shows no answer does not hold the faces in memory.
 */
export function warmFonts() {
  if (fontsWarm) return;
  fontsWarm = true;
  const el = document.createElement("div");
  el.setAttribute("aria-hidden", "true");
  el.style.cssText = "position:fixed;left:-10000px;top:0;width:400px;pointer-events:none";
  const mono = 'font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 0.86em';
  el.innerHTML = `<h2>Heading</h2><p><strong>bold</strong> <em>italic</em> <code style='${mono}'>code</code></p><pre style='${mono}'><strong>fn</strong> <em>x</em>() {}</pre>`;
  document.body.appendChild(el);
  void el.offsetHeight;
  requestAnimationFrame(() => requestAnimationFrame(() => el.remove()));
}
