// The question card's behaviour (served by Rust on its own origin; see card/ask.rs): what an
// MCP server asks the person. Like the other cards it never takes the focus and ignores presses
// for 0.5 s after it appears. Rust checks the answer; a wrong one comes back with what is
// wrong and the card stays; an accepted one closes the card's window.
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
  const d = document.querySelector("[data-testid=ask-dialog]");
  if (!d) return;
  const ARM = 500;
  const shown = performance.now();
  const status = d.querySelector("[data-testid=ask-status]");
  const buttons = () => d.querySelectorAll("button");
  let busy = false;
  setTimeout(() => {
    d.dataset.armed = "true";
    for (const b of buttons()) b.disabled = false;
  }, ARM);
  // The form's answer: text as typed, a checkbox as true/false, several choices as a list.
  function content() {
    const out = {};
    for (const el of d.querySelectorAll("[data-field]")) {
      const kind = el.dataset.kind;
      if (kind === "boolean") out[el.dataset.field] = el.checked;
      else if (kind === "multi")
        out[el.dataset.field] = [...el.querySelectorAll("input:checked")].map((i) => i.value);
      else out[el.dataset.field] = el.value;
    }
    return out;
  }
  async function answer(action) {
    if (busy || performance.now() - shown < ARM) return;
    busy = true;
    for (const b of buttons()) b.disabled = true;
    const p = new URLSearchParams({ id: d.dataset.id, nonce: d.dataset.nonce, action });
    if (action === "accept") p.set("content", JSON.stringify(content()));
    try {
      const r = await fetch("/answer?" + p.toString());
      const j = await r.json();
      status.textContent = r.ok ? "Sent." : j.error || "Not accepted.";
      d.dataset.outcome = r.ok ? action : "refused";
    } catch (e) {
      status.textContent = "Could not reach Parley: " + e;
      d.dataset.outcome = "refused";
    }
    if (d.dataset.outcome === "refused") {
      busy = false;
      for (const b of buttons()) b.disabled = false;
    }
  }
  d.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (b && !b.disabled && b.dataset.action) void answer(b.dataset.action);
  });
  // Enter in a field does not send: only a press on Send does.
  d.querySelector("form").addEventListener("submit", (e) => e.preventDefault());
})();
