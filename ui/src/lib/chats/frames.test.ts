import { describe, expect, it } from "vitest";
import { frameQueue } from "./frames";

function manual() {
  const frames: Array<() => void> = [];
  const timers: Array<() => void> = [];
  const clock = { t: 1000 };
  return {
    frames,
    timers,
    clock,
    scheduler: { frame: (f: () => void) => frames.push(f), timer: (f: () => void) => timers.push(f), now: () => clock.t },
  };
}

describe("frame batching", () => {
  it("the first batch after a quiet frame is applied at once", () => {
    const m = manual();
    const applied: number[][] = [];
    const push = frameQueue<number>((items) => applied.push(items), m.scheduler);
    push([1, 2]);
    expect(applied).toEqual([[1, 2]]);
    expect(m.frames).toHaveLength(0);
    m.clock.t += 20;
    push([3]);
    expect(applied).toEqual([[1, 2], [3]]);
  });

  it("what comes within a frame waits, and is applied once, in order, in the next frame", () => {
    const m = manual();
    const applied: number[][] = [];
    const push = frameQueue<number>((items) => applied.push(items), m.scheduler);
    push([1]);
    m.clock.t += 2;
    push([2, 3]);
    push([4]);
    m.clock.t += 2;
    push([5]);
    expect(applied).toEqual([[1]]);
    expect(m.frames).toHaveLength(1);
    m.frames[0]!();
    expect(applied).toEqual([[1], [2, 3, 4, 5]]);
    // The fallback timer of the same round does nothing more.
    m.timers[0]!();
    expect(applied).toHaveLength(2);
  });

  it("a fast stream is applied at most once per frame", () => {
    const m = manual();
    let applies = 0;
    let items = 0;
    const push = frameQueue<number>((batch) => {
      applies++;
      items += batch.length;
    }, m.scheduler);
    // 1,000 batches over 160 ms (one every 0.16 ms); frames every 16 ms.
    for (let i = 0; i < 1000; i++) {
      push([i]);
      m.clock.t += 0.16;
      if (i % 100 === 99) m.frames.splice(0).forEach((f) => f());
    }
    m.frames.splice(0).forEach((f) => f());
    expect(items).toBe(1000);
    expect(applies).toBeLessThanOrEqual(12);
  });

  it("the timer applies the queue when frames do not come (hidden window)", () => {
    const m = manual();
    const applied: string[][] = [];
    const push = frameQueue<string>((items) => applied.push(items), m.scheduler);
    push(["a"]);
    push(["b"]);
    m.timers[0]!();
    expect(applied).toEqual([["a"], ["b"]]);
    m.frames[0]!(); // the late frame finds nothing to do
    expect(applied).toHaveLength(2);
  });
});
