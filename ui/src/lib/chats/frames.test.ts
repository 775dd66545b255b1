import { describe, expect, it } from "vitest";
import { frameQueue } from "./frames";

function manual() {
  const frames: Array<() => void> = [];
  const timers: Array<() => void> = [];
  return {
    frames,
    timers,
    scheduler: { frame: (f: () => void) => frames.push(f), timer: (f: () => void) => timers.push(f) },
  };
}

describe("frame batching", () => {
  it("applies everything queued before a frame once, in order", () => {
    const m = manual();
    const applied: number[][] = [];
    const push = frameQueue<number>((items) => applied.push(items), m.scheduler);
    push([1, 2]);
    push([3]);
    push([4, 5]);
    expect(applied).toEqual([]);
    expect(m.frames).toHaveLength(1);
    m.frames[0]!();
    expect(applied).toEqual([[1, 2, 3, 4, 5]]);
    // The fallback timer of the same round does nothing more.
    m.timers[0]!();
    expect(applied).toHaveLength(1);
  });

  it("a new frame is requested only after the last one ran", () => {
    const m = manual();
    const applied: number[][] = [];
    const push = frameQueue<number>((items) => applied.push(items), m.scheduler);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) push([i]);
      m.frames.at(-1)!();
    }
    expect(m.frames).toHaveLength(3);
    expect(applied.map((a) => a.length)).toEqual([100, 100, 100]);
  });

  it("the timer applies the queue when frames do not come (hidden window)", () => {
    const m = manual();
    const applied: string[][] = [];
    const push = frameQueue<string>((items) => applied.push(items), m.scheduler);
    push(["a"]);
    m.timers[0]!();
    expect(applied).toEqual([["a"]]);
    m.frames[0]!(); // the late frame finds nothing to do
    expect(applied).toHaveLength(1);
  });
});
