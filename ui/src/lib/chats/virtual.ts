// The arithmetic of a virtualized list: heights measured once an item has been on screen and
// estimated until then, their running sums, and which items are near the viewport. Only those
// are in the DOM; two spacers stand for the rest, so a chat of any length costs the same to
// show, scroll and type beside.

export class Heights {
  private known = new Map<string, number>();

  /** Records a measured height; returns the change from what was assumed before. */
  set(id: string, px: number, guess: number): number {
    const before = this.known.get(id) ?? guess;
    this.known.set(id, px);
    return px - before;
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** The measured height, or `guess`. */
  get(id: string, guess: number): number {
    return this.known.get(id) ?? guess;
  }

  /**
   * offsets[i] is the top of item i; offsets[n] the total height. Unmeasured items count as
   * `guess(i)`, which must not change for an item until it is measured: an estimate that moved
   * with every measurement (an average, say) would shift everything below it at once.
   */
  offsets(ids: readonly string[], guess: (i: number) => number): Float64Array {
    const out = new Float64Array(ids.length + 1);
    for (let i = 0; i < ids.length; i++) out[i + 1] = out[i]! + (this.known.get(ids[i]!) ?? guess(i));
    return out;
  }
}

/** A stable first guess at a message's height from its text: lines of about 90 characters. */
export function guessHeight(chars: number, role: "user" | "assistant" | string): number {
  const lines = Math.max(1, Math.ceil(chars / 90));
  // The base is the bubble's or header's padding plus the message toolbar (about 26 px).
  return (role === "user" ? 90 : 102) + Math.min(lines, 4000) * 24;
}

/** The index of the item at `y` (the last whose top is at or above it). */
export function indexAt(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** [start, end) of the items that intersect the viewport widened by `overscan` px each way. */
/**
 * The rows to draw: `range`, widened to keep row `keep` (the reader's place; -1: none) drawn.
 * Its height in the offsets may still be a guess — drawn since the last measurement, by a page
 * that arrived between frames — while the reader is deep inside it: the range the offsets give
 * can then miss it, and the place would be held by the guess instead of by the row itself.
 */
export function keepDrawn(range: [number, number], keep: number): [number, number] {
  return keep < 0 ? range : [Math.min(range[0], keep), Math.max(range[1], keep + 1)];
}

export function visibleRange(offsets: Float64Array, top: number, height: number, overscan: number): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const start = indexAt(offsets, Math.max(0, top - overscan));
  const end = Math.min(n, indexAt(offsets, top + height + overscan) + 1);
  return [start, Math.max(start, end)];
}

/** A row's box, relative to the top of the viewport (px). */
export interface Box {
  id: string;
  top: number;
  bottom: number;
}

/**
 * The reader's place: the first row that reaches into the viewport, where its top was (`y`,
 * px from the viewport's top; negative when it starts above), and the scroll position `at`
 * which that was seen.
 */
export interface Place {
  id: string;
  y: number;
  at: number;
}

/** The first of `boxes` (in document order) that is in a viewport of `height` px, or null. */
export function placeOf(boxes: Iterable<Box>, height: number, at: number): Place | null {
  for (const b of boxes) {
    if (b.bottom > 0.5 && b.top < height) return { id: b.id, y: b.top, at };
  }
  return null;
}

/**
 * How far to scroll so that the place's row is where the reader left it, its top now being
 * at `top` with the scroll position `scrollTop`. Scrolling since the place was taken (the
 * reader's, whose scroll event may not have come yet) moved the row by `at - scrollTop`, and
 * stays; whatever else moved it — rows above it added, removed or resized, in any frame — is
 * the correction. Relative, so it never undoes a scroll and never fights one.
 */
export function correction(place: Place, top: number, scrollTop: number): number {
  return top - (place.y + (place.at - scrollTop));
}

/**
 * The place after `hold` found its row at `top` with the scroll position `before` and scrolled
 * to `after`. Where the reader wants the row is unchanged (their scrolling since `place.at`
 * included): kept as wanted, not as laid out, so the sub-pixel rounding of corrections never
 * adds up — unless the scroll range could not take the correction (at its very top or end):
 * then the place is what is shown.
 */
export function kept(place: Place, top: number, before: number, after: number): Place {
  const wanted = place.y + (place.at - before);
  const shown = top - (after - before);
  return { id: place.id, y: Math.abs(shown - wanted) < 1 ? wanted : shown, at: after };
}

/**
 * Whether a scroll event leaves the view following the end. At the bottom (within 80 px) it
 * does; otherwise only when the view did not move up since the position last seen or set —
 * a window made smaller, or the end growing before the view followed it, leaves the view
 * short of the bottom without the reader having moved — and was not just `resized`: a window
 * made larger (or wider, the text reflowing shorter) pulls the position up, and the rows
 * mounted for the new size can push the end away again before the scroll event comes.
 */
export function keepsFollowing(top: number, lastTop: number, toBottom: number, resized = false): boolean {
  return toBottom < 80 || top >= lastTop - 2 || resized;
}
