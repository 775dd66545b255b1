// The transcript's rows as the DOM has them: each row (or a seek's placeholder) is a child of
// the list carrying its message id in `data-row` (`data-seek`); the spacers carry none.
import type { Box } from "./virtual";

function idOf(el: Element): string | undefined {
  const d = (el as HTMLElement).dataset;
  return d?.row ?? d?.seek;
}

/** The rows in `list`, in order, as boxes relative to the top of `viewport`. */
export function* boxes(viewport: Element, list: Element): Generator<Box> {
  const top = viewport.getBoundingClientRect().top;
  for (const c of list.children) {
    const id = idOf(c);
    if (!id) continue;
    const b = c.getBoundingClientRect();
    yield { id, top: b.top - top, bottom: b.bottom - top };
  }
}

/** The row (or placeholder) of message `id` in `list`. */
export function rowOf(list: Element, id: string): HTMLElement | null {
  for (const c of list.children) if (idOf(c) === id) return c as HTMLElement;
  return null;
}
