// Mermaid diagrams in ```mermaid blocks. The markdown renderer marks a finished block (class
// "mermaid") and shows it as code; once the block is on screen it is drawn here, off the frame
// budget path: the diagram library (megabytes) loads on first use as its own chunk, diagrams
// are drawn one at a time, each a task of its own, and the picture is put above the code,
// which is hidden. A diagram that fails stays code, with a note. Drawn pictures are kept by
// source, so a row scrolled back into view shows its picture at once.

/** A diagram longer than this stays code (and so does an empty one). */
export const MAX_DIAGRAM = 20_000;

/** Whether a mermaid block's text is worth drawing. */
export function diagramSource(text: string): boolean {
  return text.trim() !== "" && text.length <= MAX_DIAGRAM;
}

export type Drawn = { svg: string; theme: Theme } | { error: string };
export type Theme = "light" | "dark";
export type Draw = (code: string, theme: Theme) => Promise<string>;

/** The colours the window shows now. */
export function currentTheme(): Theme {
  const set = document.documentElement.dataset.theme;
  if (set === "dark" || set === "light") return set;
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

const drawnCache = new Map<string, Drawn>();
const DRAWN_MAX = 100;
let queue: Promise<void> = Promise.resolve();

/** The real drawing: mermaid and the SVG sanitizer, loaded on first use. */
const lazyDraw: Draw = async (code, theme) => (await import("./diagramDraw")).drawDiagram(code, theme);
let draw: Draw = lazyDraw;

/** Tests put a drawing of their own (or the real one, loaded eagerly) here. */
export function setDraw(d: Draw | null) {
  draw = d ?? lazyDraw;
  drawnCache.clear();
}

function show(block: HTMLElement, d: Drawn) {
  if ("error" in d) {
    block.dataset.diagram = "failed";
    const head = block.querySelector(".code-head > span");
    if (head && !head.querySelector(".diagram-note")) {
      const note = document.createElement("span");
      note.className = "diagram-note";
      note.textContent = " · not drawn";
      note.title = `This diagram could not be drawn: ${d.error}`;
      head.appendChild(note);
    }
    return;
  }
  const figure = document.createElement("div");
  figure.className = "diagram";
  // Its colours are the theme's it was drawn in (drawn again when the theme changes).
  figure.dataset.theme = d.theme;
  figure.setAttribute("role", "img");
  figure.setAttribute("aria-label", "Diagram");
  // Sanitized by diagramDraw.ts with the SVG profile (no scripts, handlers, links, foreign
  // content, loads; styles scoped to the picture).
  figure.innerHTML = d.svg;
  block.insertBefore(figure, block.querySelector("pre"));
  block.dataset.diagram = "drawn";
  watchTheme();
}

/** A task of its own, so a frame can be drawn between two diagrams. */
const yieldTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Draws the marked mermaid blocks inside `root` that are not drawn yet. */
export function drawDiagrams(root: HTMLElement): void {
  for (const block of root.querySelectorAll<HTMLElement>(".code-block.mermaid")) {
    if (block.dataset.diagram) continue;
    const code = block.querySelector("pre code")?.textContent ?? "";
    const theme = currentTheme();
    const key = `${theme}\n${code}`;
    const known = drawnCache.get(key);
    if (known) {
      show(block, known);
      continue;
    }
    block.dataset.diagram = "pending";
    queue = queue.then(async () => {
      await yieldTask();
      // A row scrolled away before its turn: drawn when it is shown again.
      if (!block.isConnected) return;
      let d = drawnCache.get(key);
      if (!d) {
        try {
          d = { svg: await draw(code, theme), theme };
        } catch (err) {
          d = { error: err instanceof Error ? err.message : String(err) };
        }
        if (drawnCache.size >= DRAWN_MAX) drawnCache.delete(drawnCache.keys().next().value!);
        drawnCache.set(key, d);
      }
      if (block.isConnected && block.dataset.diagram === "pending") show(block, d);
    });
  }
}

/** Draws again, in the new colours, the diagrams on screen drawn in other ones. */
export function redrawForTheme(root: ParentNode = document): void {
  const theme = currentTheme();
  for (const figure of root.querySelectorAll<HTMLElement>(".code-block[data-diagram=drawn] > .diagram")) {
    if (figure.dataset.theme === theme) continue;
    const block = figure.parentElement!;
    figure.remove();
    delete block.dataset.diagram;
    drawDiagrams(block.parentElement ?? block);
  }
}

let watching = false;
/** Follows the window's theme (the setting and the system's) once a diagram is shown. */
function watchTheme() {
  if (watching || typeof MutationObserver !== "function") return;
  watching = true;
  new MutationObserver(() => redrawForTheme()).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  if (typeof matchMedia === "function") matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => redrawForTheme());
}

/** Resolves when every diagram asked for so far is drawn (or failed). For tests. */
export function diagramsSettled(): Promise<void> {
  return queue;
}

/** A Svelte action for a rendered block: draws its diagrams when it mounts and changes. */
export function diagrams(node: HTMLElement, _html: string) {
  drawDiagrams(node);
  return {
    update() {
      drawDiagrams(node);
    },
  };
}

/** A diagram's picture (sanitized SVG, light colours) for its preview: drawn, or as drawn before. */
export async function diagramSvg(code: string): Promise<string> {
  if (!diagramSource(code)) throw new Error(`a diagram is drawn up to ${MAX_DIAGRAM.toLocaleString()} characters`);
  const known = drawnCache.get(`light\n${code}`);
  if (known && "svg" in known) return known.svg;
  if (known) throw new Error(known.error);
  // In the drawing queue: one diagram (and one theme) at a time.
  let result!: Promise<string>;
  queue = queue.then(() => {
    result = draw(code, "light");
    return result.then(() => undefined, () => undefined);
  });
  await queue;
  return result;
}
