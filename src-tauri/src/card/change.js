// The change card's behaviour (served by Rust on its own origin; see card/change.rs). Like the
// approval card it never takes the focus and ignores presses for 0.5 s after it appears. Rust
// tells the Settings panel how it ended (`wait_change`) and closes the card's window.
(() => {
  "use strict";
  const root = document.documentElement;
  if (root.dataset.theme === "system")
    root.dataset.theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  // The card lives in a window of its own (card/window.rs); it asks Rust for its height.
  let asked = 0;
  const fit = () => {
    const h = Math.ceil(document.body.getBoundingClientRect().height);
    if (h === asked) return;
    asked = h;
    fetch("/fit?h=" + h).catch(() => {});
  };
  new ResizeObserver(fit).observe(document.body);
  fit();
  const d = document.querySelector("[data-testid=change-dialog]");
  if (!d) return;
  const ARM = 500;
  const shown = performance.now();
  const status = d.querySelector("[data-testid=change-status]");
  const buttons = () => d.querySelectorAll("button");
  let busy = false;
  setTimeout(() => {
    d.dataset.armed = "true";
    for (const b of buttons()) b.disabled = false;
  }, ARM);
  async function answer(kind) {
    if (busy || performance.now() - shown < ARM) return;
    busy = true;
    for (const b of buttons()) b.disabled = true;
    const p = new URLSearchParams({ id: d.dataset.id, nonce: d.dataset.nonce, answer: kind });
    try {
      const r = await fetch("/apply?" + p.toString());
      const j = await r.json();
      const ok = r.ok && j.ok === true;
      status.textContent = ok ? "Done." : j.cancelled ? "Cancelled." : j.error || "Not accepted.";
      d.dataset.outcome = ok ? "done" : j.cancelled ? "cancelled" : "failed";
    } catch (e) {
      status.textContent = "Could not reach Parley: " + e;
      d.dataset.outcome = "failed";
    }
  }
  d.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (b && !b.disabled && b.dataset.answer) void answer(b.dataset.answer);
  });
})();
