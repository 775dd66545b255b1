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
export function visibleRange(offsets: Float64Array, top: number, height: number, overscan: number): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  const start = indexAt(offsets, Math.max(0, top - overscan));
  const end = Math.min(n, indexAt(offsets, top + height + overscan) + 1);
  return [start, Math.max(start, end)];
}
