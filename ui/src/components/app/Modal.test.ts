import { describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render } from "@testing-library/svelte";
import { createRawSnippet } from "svelte";
import Modal from "./Modal.svelte";

const children = createRawSnippet(() => ({ render: () => `<p><button type="button">inside</button></p>` }));

function open(props: Record<string, unknown> = {}) {
  const onclose = vi.fn();
  const r = render(Modal, { props: { label: "Things", testid: "things", width: "30rem", onclose, children, ...props } });
  const panel = r.getByTestId("things");
  return { onclose, panel, backdrop: panel.parentElement as HTMLElement, r };
}

describe("Modal", () => {
  it("is a modal dialog named by its label, with its content inside the panel", () => {
    const { panel } = open();
    expect(panel.getAttribute("role")).toBe("dialog");
    expect(panel.getAttribute("aria-modal")).toBe("true");
    expect(panel.getAttribute("aria-label")).toBe("Things");
    expect(panel.querySelector("button")?.textContent).toBe("inside");
    cleanup();
  });

  it("Escape closes, from the panel or from what is inside it; other keys do not", () => {
    const { onclose, panel } = open();
    for (const key of ["Enter", "a", "ArrowDown", "Tab"]) void fireEvent.keyDown(panel, { key });
    expect(onclose).not.toHaveBeenCalled();
    void fireEvent.keyDown(panel.querySelector("button")!, { key: "Escape" });
    expect(onclose).toHaveBeenCalledTimes(1);
    void fireEvent.keyDown(panel, { key: "Escape" });
    expect(onclose).toHaveBeenCalledTimes(2);
    cleanup();
  });

  it("the panel's own keys replace Escape's closing (the palette)", () => {
    const onkeydown = vi.fn();
    const { onclose, panel } = open({ onkeydown });
    void fireEvent.keyDown(panel, { key: "Escape" });
    expect(onkeydown).toHaveBeenCalledTimes(1);
    expect(onclose).not.toHaveBeenCalled();
    cleanup();
  });

  it("a click on the backdrop closes only a dismissable dialog; a click inside never does", () => {
    for (const dismiss of [false, true]) {
      const { onclose, panel, backdrop } = open({ dismiss });
      void fireEvent.click(panel);
      void fireEvent.click(panel.querySelector("button")!);
      expect(onclose).not.toHaveBeenCalled();
      void fireEvent.click(backdrop);
      expect(onclose).toHaveBeenCalledTimes(dismiss ? 1 : 0);
      cleanup();
    }
  });

  it("takes the focus when asked, and hands the panel to onopen", () => {
    const onopen = vi.fn();
    const { panel } = open({ focus: true, onopen });
    expect(document.activeElement).toBe(panel);
    expect(onopen).toHaveBeenCalledWith(panel);
    cleanup();
    const plain = open();
    expect(document.activeElement).not.toBe(plain.panel);
    expect(plain.panel.hasAttribute("tabindex")).toBe(false);
    cleanup();
  });

  it("sits where it is told: at a distance from the top, or centred", () => {
    const top = open({ top: "8vh", layer: 40 });
    expect(top.backdrop.style.paddingBlock).toBe("8vh");
    expect(top.backdrop.style.zIndex).toBe("40");
    expect(top.backdrop.classList.contains("centred")).toBe(false);
    cleanup();
    const centred = open();
    expect(centred.backdrop.classList.contains("centred")).toBe(true);
    cleanup();
  });
});
