// Keeps the keyboard inside a dialog while it is open (Tab and Shift+Tab go round its own
// controls) and gives the focus back to what had it when the dialog closes.

const FOCUSABLE = 'a[href], button:not([disabled]), textarea, input, select, [tabindex]:not([tabindex="-1"])';

/** The element Tab should move to from `current` inside `items` (wrapping round). */
export function nextFocus<T>(items: readonly T[], current: T | null, back: boolean): T | null {
  if (!items.length) return null;
  const i = current === null ? -1 : items.indexOf(current);
  if (i < 0) return back ? items[items.length - 1]! : items[0]!;
  return items[(i + (back ? -1 : 1) + items.length) % items.length]!;
}

/** A Svelte action: traps Tab inside `node`, focuses its first control, restores the focus. */
export function trapFocus(node: HTMLElement) {
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const items = () => Array.from(node.querySelectorAll<HTMLElement>(FOCUSABLE));
  const onkey = (e: KeyboardEvent) => {
    if (e.key !== "Tab") return;
    e.preventDefault();
    const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    nextFocus(items(), active, e.shiftKey)?.focus();
  };
  node.addEventListener("keydown", onkey);
  queueMicrotask(() => (items()[0] ?? node).focus());
  return {
    destroy() {
      node.removeEventListener("keydown", onkey);
      if (before?.isConnected) before.focus();
    },
  };
}
