// When an approval dialog may act on input (issue 12, keyjacking). A dialog that appears while
// the user types or clicks must not turn those keys or that click into a decision:
// - it never takes the focus (the composer keeps focus and text);
// - for ARM_MS after it appears nothing in it acts, click or key;
// - single-key shortcuts act only once the user moved into the dialog themselves (a pointer
//   press inside it, or Tab), never because something else focused it;
// - "Always allow" is never one step: it opens a confirmation that needs its own click.

/** How long a new dialog ignores clicks and keys. */
export const ARM_MS = 500;

export type Decision = "allow_once" | "allow_session" | "allow_always" | "deny";

/** What the dialog knows about how it was reached. */
export type GuardState = {
  /** When the dialog appeared (performance.now()). */
  shownAt: number;
  /** The user moved into the dialog (pointer press inside, or Tab into it). */
  userEntered: boolean;
};

/** True once the dialog may act on a click. */
export function armed(g: GuardState, now: number): boolean {
  return now - g.shownAt >= ARM_MS;
}

/**
 * What a key does in the dialog, or null. `A` only opens the "always" confirmation (the
 * caller shows it); nothing acts before the dialog is armed and entered by the user.
 */
export function keyAction(key: string, g: GuardState, now: number, canGrant: boolean): Decision | "confirm_always" | null {
  if (!g.userEntered || !armed(g, now)) return null;
  switch (key.toLowerCase()) {
    case "y":
      return "allow_once";
    case "n":
      return "deny";
    case "s":
      return canGrant ? "allow_session" : null;
    case "a":
      return canGrant ? "confirm_always" : null;
    default:
      return null;
  }
}
