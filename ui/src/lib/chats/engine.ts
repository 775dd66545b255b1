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
