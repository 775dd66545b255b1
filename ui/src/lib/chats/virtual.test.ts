import { describe, expect, it } from "vitest";
import { Heights, indexAt, visibleRange } from "./virtual";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

describe("virtualized list arithmetic", () => {
  it("estimates unmeasured items by the average of measured ones", () => {
    const h = new Heights();
    expect(h.get("x")).toBe(120);
    h.set("a", 100);
    h.set("b", 300);
    expect(h.get("x")).toBe(200);
    expect(h.set("a", 150)).toBe(50);
    expect(h.get("x")).toBe(225);
  });

  it("offsets are running sums and indexAt finds the item under a point", () => {
    const h = new Heights();
    const list = ids(5);
    list.forEach((id, i) => h.set(id, (i + 1) * 10));
    const o = h.offsets(list);
    expect([...o]).toEqual([0, 10, 30, 60, 100, 150]);
    expect(indexAt(o, 0)).toBe(0);
    expect(indexAt(o, 29.9)).toBe(1);
    expect(indexAt(o, 30)).toBe(2);
    expect(indexAt(o, 1e9)).toBe(4);
  });

  it("only items near the viewport are in range, at any length", () => {
    const h = new Heights();
    for (const n of [1, 10, 4000, 100_000]) {
      const o = h.offsets(ids(n));
      for (const top of [0, o[n]! / 2, Math.max(0, o[n]! - 700)]) {
        const [s, e] = visibleRange(o, top, 700, 600);
        expect(e - s).toBeLessThanOrEqual(Math.ceil((700 + 1200) / 120) + 2);
        expect(o[s]!).toBeLessThanOrEqual(Math.max(0, top - 600) + 0.001);
        expect(o[e]!).toBeGreaterThanOrEqual(Math.min(o[n]!, top + 700));
      }
    }
    expect(visibleRange(h.offsets([]), 0, 700, 600)).toEqual([0, 0]);
  });
});
