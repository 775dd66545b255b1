import { describe, expect, it } from "vitest";
import { guessHeight, Heights, indexAt, visibleRange } from "./virtual";

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
