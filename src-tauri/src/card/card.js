// The approval card's behaviour (served by Rust on its own origin, shown in a window of its own;
// see card/mod.rs and card/window.rs). Keyjacking
// rules: never take the focus; nothing acts for 0.5 s after the card appears; single keys act
// only once the user entered the card (a press inside it, or Tab); "always" needs a
// confirmation whose button wakes up 0.5 s later.
(() => {
  "use strict";
  const root = document.documentElement;
  if (root.dataset.theme === "system")
    root.dataset.theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  const d = document.querySelector("[data-testid=approval-dialog]");
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
  if (!d) return;
  const ARM = 500;
  const shown = performance.now();
  const choices = d.querySelector(".choices");
  const confirm = d.querySelector(".confirm");
  const yes = d.querySelector("[data-testid=approval-always-yes]");
  const note = d.querySelector(".note");
  const status = d.querySelector("[data-testid=approval-status]");
  const canGrant = d.dataset.canGrant === "true";
  let entered = false;
  let busy = false;
  let confirmAt = Infinity;
  let lastKeyWasTab = false;
  const armed = () => performance.now() - shown >= ARM;
  setTimeout(() => {
    d.dataset.armed = "true";
    for (const b of choices.querySelectorAll("button")) b.disabled = false;
  }, ARM);
  const enter = () => {
    entered = true;
    d.dataset.entered = "true";
  };
  window.addEventListener("keydown", (e) => (lastKeyWasTab = e.key === "Tab"), true);
  d.addEventListener("pointerdown", enter);
  d.addEventListener("focusin", () => lastKeyWasTab && enter());

  function openConfirm() {
    choices.hidden = true;
    confirm.hidden = false;
    yes.disabled = true;
    confirmAt = performance.now();
    setTimeout(() => (yes.disabled = false), ARM);
  }
  function back() {
    confirm.hidden = true;
    choices.hidden = false;
    confirmAt = Infinity;
  }
  async function decide(kind) {
    if (busy || !armed()) return;
    if (kind === "allow_always" && !(performance.now() - confirmAt >= ARM)) return;
    busy = true;
    const p = new URLSearchParams({
      session: d.dataset.session,
      call: d.dataset.call,
      nonce: d.dataset.nonce,
      decision: kind,
    });
    if (kind === "deny" && note.value.trim()) p.set("note", note.value.trim());
    for (const b of d.querySelectorAll("button")) b.disabled = true;
    try {
      const r = await fetch("/decide?" + p.toString());
      const j = await r.json();
      status.textContent = r.ok ? "Sent." : j.error || "Not accepted.";
      d.dataset.decided = r.ok ? kind : "";
      if (!r.ok) busy = false;
    } catch (e) {
      status.textContent = "Could not send the decision: " + e;
      busy = false;
    }
    if (!busy) for (const b of d.querySelectorAll("button")) b.disabled = false;
  }
  d.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    if (b.dataset.decision) void decide(b.dataset.decision);
    else if ("confirmAlways" in b.dataset) openConfirm();
    else if ("back" in b.dataset) back();
  });
  d.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (!entered || !armed()) return;
    const k = e.key.toLowerCase();
    const act =
      k === "y" ? "allow_once" : k === "n" ? "deny" : k === "s" && canGrant ? "allow_session" : null;
    if (k === "a" && canGrant && confirm.hidden) {
      e.preventDefault();
      openConfirm();
    } else if (act && confirm.hidden) {
      e.preventDefault();
      void decide(act);
    }
  });
})();
