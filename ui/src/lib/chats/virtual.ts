// The arithmetic of a virtualized list: heights measured once an item has been on screen and
// estimated until then, their running sums, and which items are near the viewport. Only those
// are in the DOM; two spacers stand for the rest, so a chat of any length costs the same to
// show, scroll and type beside.

export class Heights {
  private known = new Map<string, number>();
  private sum = 0;

  /** Records a measured height; returns the change from what was assumed before. */
  set(id: string, px: number): number {
    const before = this.get(id);
    const old = this.known.get(id);
    if (old !== undefined) this.sum -= old;
    this.known.set(id, px);
    this.sum += px;
    return px - before;
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  /** The measured height, or the average of those measured so far. */
  get(id: string): number {
    return this.known.get(id) ?? this.estimate();
  }

  estimate(): number {
    return this.known.size ? this.sum / this.known.size : 120;
  }

  /** offsets[i] is the top of item i; offsets[n] the total height. */
  offsets(ids: readonly string[]): Float64Array {
    const out = new Float64Array(ids.length + 1);
    const guess = this.estimate();
    for (let i = 0; i < ids.length; i++) out[i + 1] = out[i]! + (this.known.get(ids[i]!) ?? guess);
    return out;
  }
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
