// Applying events at most once per frame. Events arrive in batches from the core (at most one
// batch per frame). A batch after a quiet frame is applied at once; what comes sooner waits
// and everything that waited is applied in the next animation frame — so the view is replaced,
// and the page re-rendered, at most about once per frame however fast the model writes. A timer
// stands in when frames do not come (a hidden window), so nothing waits for long.

export interface FrameScheduler {
  frame: (f: () => void) => unknown;
  timer: (f: () => void, ms: number) => unknown;
  now: () => number;
}

const browser: FrameScheduler = {
  frame: (f) => requestAnimationFrame(f),
  timer: (f, ms) => setTimeout(f, ms),
  now: () => performance.now(),
};

/** A frame's length: items after a quiet spell this long are applied at once. */
const FRAME_MS = 16;

/** Returns `push`: queue items; `apply` gets every queued item once per frame, in order. */
export function frameQueue<T>(apply: (items: T[]) => void, scheduler: FrameScheduler = browser): (items: T[]) => void {
  let queue: T[] = [];
  let scheduled = false;
  let last = -Infinity;
  const run = (items: T[]) => {
    last = scheduler.now();
    if (items.length) apply(items);
  };
  const flush = () => {
    if (!scheduled) return;
    scheduled = false;
    const items = queue;
    queue = [];
    run(items);
  };
  return (items: T[]) => {
    if (scheduled) {
      for (const item of items) queue.push(item);
      return;
    }
    // The first items after a quiet frame go in at once (no added latency for a slow
    // stream); anything more within the frame waits for the next one.
    if (scheduler.now() - last >= FRAME_MS) {
      run(items);
      return;
    }
    for (const item of items) queue.push(item);
    scheduled = true;
    scheduler.frame(flush);
    scheduler.timer(flush, 100);
  };
}
