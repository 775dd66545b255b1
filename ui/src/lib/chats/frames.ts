// Applying events once per frame. Events arrive in batches from the core (at most one batch
// per frame); the window queues them and applies all that waited in one animation frame, so
// the view is replaced — and the page re-rendered — at most once per frame however fast the
// model writes. A timer stands in when frames do not come (a hidden window), so nothing waits
// for long.

export interface FrameScheduler {
  frame: (f: () => void) => unknown;
  timer: (f: () => void, ms: number) => unknown;
}

const browser: FrameScheduler = {
  frame: (f) => requestAnimationFrame(f),
  timer: (f, ms) => setTimeout(f, ms),
};

/** Returns `push`: queue items; `apply` gets every queued item once per frame, in order. */
export function frameQueue<T>(apply: (items: T[]) => void, scheduler: FrameScheduler = browser): (items: T[]) => void {
  let queue: T[] = [];
  let scheduled = false;
  const flush = () => {
    if (!scheduled) return;
    scheduled = false;
    const items = queue;
    queue = [];
    if (items.length) apply(items);
  };
  return (items: T[]) => {
    for (const item of items) queue.push(item);
    if (scheduled) return;
    scheduled = true;
    scheduler.frame(flush);
    scheduler.timer(flush, 100);
  };
}
