import { describe, expect, it } from "vitest";
import { correction, guessHeight, keepDrawn, kept, Heights, indexAt, keepsFollowing, placeOf, visibleRange, type Box, type Place } from "./virtual";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
const flat = () => 120;

describe("virtualized list arithmetic", () => {
  it("uses the measured height, else the item's own guess", () => {
    const h = new Heights();
    expect(h.get("x", 120)).toBe(120);
    expect(h.set("a", 100, 120)).toBe(-20);
    expect(h.get("a", 120)).toBe(100);
    expect(h.set("a", 150, 120)).toBe(50);
  });

  it("measuring one item never moves the items above it or the guesses of others", () => {
    const h = new Heights();
    const list = ids(1000);
    const before = h.offsets(list, flat);
    h.set("m500", 900, 120);
    const after = h.offsets(list, flat);
    expect(after[500]).toBe(before[500]);
    expect(after[501]! - before[501]!).toBe(780);
    expect(after[1000]! - before[1000]!).toBe(780);
  });

  it("offsets are running sums and indexAt finds the item under a point", () => {
    const h = new Heights();
    const list = ids(5);
    list.forEach((id, i) => h.set(id, (i + 1) * 10, 0));
    const o = h.offsets(list, flat);
    expect([...o]).toEqual([0, 10, 30, 60, 100, 150]);
    expect(indexAt(o, 0)).toBe(0);
    expect(indexAt(o, 29.9)).toBe(1);
    expect(indexAt(o, 30)).toBe(2);
    expect(indexAt(o, 1e9)).toBe(4);
  });

  it("only items near the viewport are in range, at any length", () => {
    const h = new Heights();
    for (const n of [1, 10, 4000, 100_000]) {
      const o = h.offsets(ids(n), flat);
      for (const top of [0, o[n]! / 2, Math.max(0, o[n]! - 700)]) {
        const [s, e] = visibleRange(o, top, 700, 600);
        expect(e - s).toBeLessThanOrEqual(Math.ceil((700 + 1200) / 120) + 2);
        expect(o[s]!).toBeLessThanOrEqual(Math.max(0, top - 600) + 0.001);
        expect(o[e]!).toBeGreaterThanOrEqual(Math.min(o[n]!, top + 700));
      }
    }
    expect(visibleRange(h.offsets([], flat), 0, 700, 600)).toEqual([0, 0]);
  });

  it("guesses grow with the text", () => {
    expect(guessHeight(10, "user")).toBeLessThan(guessHeight(1000, "user"));
    expect(guessHeight(3000, "assistant")).toBeGreaterThan(500);
  });
});

// A scroller as the browser lays it out: rows of given heights one under the other, a scroll
// position clamped to the content and rounded to whole pixels as WebKit keeps it.
class Scroller {
  rows: { id: string; h: number }[] = [];
  scrollTop = 0;
  constructor(
    n: number,
    height: (i: number) => number,
    readonly viewport = 700,
  ) {
    this.rows = Array.from({ length: n }, (_, i) => ({ id: `m${i}`, h: height(i) }));
  }
  get total() {
    return this.rows.reduce((s, r) => s + r.h, 0);
  }
  scrollTo(y: number) {
    this.scrollTop = Math.round(Math.min(Math.max(0, y), Math.max(0, this.total - this.viewport)));
  }
  boxes(): Box[] {
    let y = -this.scrollTop;
    return this.rows.map((r) => {
      const b = { id: r.id, top: y, bottom: y + r.h };
      y += r.h;
      return b;
    });
  }
  topOf(id: string): number {
    let y = -this.scrollTop;
    for (const r of this.rows) {
      if (r.id === id) return y;
      y += r.h;
    }
    throw new Error(`no row ${id}`);
  }
}

/** What the transcript does after a change of its rows (`hold`); `clamped`: it could not. */
function hold(s: Scroller, place: Place): Place & { clamped: boolean } {
  const before = s.scrollTop;
  const top = s.topOf(place.id);
  const target = before + correction(place, top, before);
  s.scrollTo(target);
  const wanted = place.y + (place.at - before);
  return { ...kept(place, top, before, s.scrollTop), clamped: Math.abs(s.topOf(place.id) - wanted) >= 1 };
}

/** A small seeded generator, so a failing variant can be run again. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe("the reader's place", () => {
  it("is the first row that reaches into the viewport", () => {
    const box = (id: string, top: number, bottom: number): Box => ({ id, top, bottom });
    const cases: [Box[], Place | null][] = [
      [[], null],
      [[box("a", -300, -100), box("b", -100, 40), box("c", 40, 200)], { id: "b", y: -100, at: 5 }],
      [[box("a", -300, 0), box("b", 0, 40)], { id: "b", y: 0, at: 5 }],
      [[box("a", -300, 0.3), box("b", 0.3, 40)], { id: "b", y: 0.3, at: 5 }],
      [[box("a", -5000, 5000)], { id: "a", y: -5000, at: 5 }],
      // Rows all above, or all below (a jump away from what is rendered): none.
      [[box("a", -900, -500), box("b", -500, -1)], null],
      [[box("a", 700, 900), box("b", 900, 1000)], null],
      [[box("a", 699, 900)], { id: "a", y: 699, at: 5 }],
    ];
    for (const [boxes, want] of cases) expect(placeOf(boxes, 700, 5)).toEqual(want);
  });

  it("a correction moves the view by what moved the row, never by what the reader scrolled", () => {
    const place: Place = { id: "x", y: -40, at: 1000 };
    // [row's top now, scroll position now, correction]
    const cases: [number, number, number][] = [
      [-40, 1000, 0], // nothing moved
      [260, 700, 0], // the reader scrolled up 300 px: kept
      [-340, 1300, 0], // down 300 px: kept
      [23_960, 1000, 24_000], // 24,000 px of older messages above
      [24_260, 700, 24_000], // both: the reader's 300 px stay
      [80, 1000, 120], // a row above grew 120 px (an image decoded)
      [-90, 1000, -50], // one shrank
      [-40.5, 1000, -0.5],
    ];
    for (const [top, scrollTop, want] of cases) expect(correction(place, top, scrollTop)).toBeCloseTo(want, 9);
  });

  it("holds under any interleaving of scrolling, older pages, rows resized and scroll events", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const s = new Scroller(60, (i) => 80 + Math.floor(r() * 400) + (i % 7 === 0 ? 0.5 : 0));
      s.scrollTo(s.total);
      let place = placeOf(s.boxes(), s.viewport, s.scrollTop)!;
      // Where the reader expects the row: where it was, moved only by their own scrolling.
      let want = place.y;
      let older = 0;
      for (let step = 0; step < 120; step++) {
        const op = r();
        const i = s.rows.findIndex((row) => row.id === place.id);
        if (op < 0.35) {
          // The reader scrolls (up mostly, as when reading back); the event comes later.
          const before = s.scrollTop;
          s.scrollTo(before - Math.floor(r() * 900) + 150);
          want += before - s.scrollTop;
        } else if (op < 0.5) {
          // Their scroll event: the place is held, then taken again from what is seen.
          const held = hold(s, place);
          if (!held.clamped) expect(Math.abs(s.topOf(place.id) - want)).toBeLessThan(1);
          place = placeOf(s.boxes(), s.viewport, s.scrollTop)!;
          want = place.y;
          continue;
        } else if (op < 0.62) {
          // An older page arrives at the top.
          const n = 1 + Math.floor(r() * (r() < 0.5 ? 5 : 400));
          const page = Array.from({ length: n }, (_, k) => ({ id: `o${older++}-${k}`, h: 60 + Math.floor(r() * 900) }));
          s.rows.unshift(...page);
        } else if (op < 0.9 && i >= 0) {
          // A row above the place, or the place's own row, changes height (an image decoding
          // late; a row measured after it was guessed; a code block rendered).
          const j = Math.floor(r() * (i + 1));
          s.rows[j]!.h = Math.max(20, s.rows[j]!.h + Math.floor(r() * 700) - 250 + 0.25);
        } else {
          // Rows below the place change: they do not move it.
          const j = Math.min(s.rows.length - 1, i + 1 + Math.floor(r() * 5));
          s.rows[j]!.h += 333;
        }
        const held = hold(s, place);
        place = held;
        // At the very top a row above that shrank cannot be made up for: the reader's next
        // scroll event takes the place as it is.
        if (held.clamped) want = s.topOf(place.id);
        expect(Math.abs(s.topOf(place.id) - want), `seed ${seed}, step ${step}`).toBeLessThan(1);
      }
    }
  });

  it("without it, a page arriving between a scroll and its event moves the view (the old race)", () => {
    const s = new Scroller(60, () => 150);
    s.scrollTo(3000);
    const place = placeOf(s.boxes(), s.viewport, s.scrollTop)!;
    s.scrollTo(2600);
    s.rows.unshift(...Array.from({ length: 400 }, (_, k) => ({ id: `o${k}`, h: 150 })));
    // The old rule: restore only if the scroll position is still the one the anchor was taken
    // at — it is not, so nothing is done, and the reader's row is 60,000 px down.
    expect(s.topOf(place.id) - (place.y + 400)).toBe(60_000);
    hold(s, place);
    expect(s.topOf(place.id)).toBe(place.y + 400);
  });
});

describe("following the end", () => {
  it("stops only when the reader moved up, not when the window changed size", () => {
    // [scroll position, last position seen or set, px to the bottom, keeps following]
    const cases: [number, number, number, boolean][] = [
      [5000, 5000, 0, true], // at the bottom
      [5000, 5000, 300, true], // the window got 300 px smaller
      [5000, 5000, 4000, true], // much smaller
      [4700, 5000, 0, true], // larger: the position was clamped, still at the bottom
      [5000, 5000, 900, true], // the answer grew before the view followed it
      [5400, 5000, 20, true], // moved down
      [4999, 5000, 300, true], // a pixel of rounding
      [4800, 5000, 200, false], // the reader scrolled up
      [4960, 5000, 40, true], // a little: still at the bottom
      [0, 5000, 5000, false], // Home
    ];
    for (const [top, last, toBottom, want] of cases) {
      expect(keepsFollowing(top, last, toBottom), `${top} ${last} ${toBottom}`).toBe(want);
      // Just after the transcript changed size, a move up is the browser's: still following.
      expect(keepsFollowing(top, last, toBottom, true)).toBe(true);
    }
  });
});

describe("the reader's row stays drawn", () => {
  it("widens the range to the row kept, and only then", () => {
    expect(keepDrawn([10, 20], -1)).toEqual([10, 20]);
    expect(keepDrawn([10, 20], 15)).toEqual([10, 20]);
    expect(keepDrawn([10, 20], 7)).toEqual([7, 20]);
    expect(keepDrawn([10, 20], 20)).toEqual([10, 21]);
    expect(keepDrawn([10, 20], 30)).toEqual([10, 31]);
    expect(keepDrawn([0, 0], 0)).toEqual([0, 1]);
  });
});
