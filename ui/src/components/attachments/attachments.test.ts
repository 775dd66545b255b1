import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render } from "@testing-library/svelte";
import { tick } from "svelte";
import AttachmentChips from "./AttachmentChips.svelte";
import AttachmentView from "./AttachmentView.svelte";
import * as C from "../../lib/attachments/chips";
import { AttachmentDraft } from "../../lib/attachments/draft.svelte";
import { renderMarkdown } from "../../lib/chats/markdown";

const SHA = "b".repeat(64);
const image = (over: Partial<C.ImagePart> = {}): C.ImagePart => ({ type: "image", mime: "image/png", sha256: SHA, name: "shot.png", width: 1600, height: 900, size: 2048, ...over });
const doc = (text: string, name = "report.pdf"): C.FilePart => ({ type: "file", name, mime: "application/pdf", text });

afterEach(() => cleanup());

const HOSTILE = [
  "<img src=x onerror=alert(1)>.png",
  "<script>alert(1)</script>.pdf",
  "\u202Egnp.exe",
  `${"x".repeat(500)}.txt`,
  '"><svg onload=alert(1)>',
  "a\u0000b\u200F.md",
  "{@html '<b>x</b>'}",
];

describe("composer chips", () => {
  it("hostile names render as inert text: no element, no script, hidden characters shown", () => {
    const chips = HOSTILE.flatMap((name, i) => C.failed([C.attaching(`j${i}`, name)], `j${i}`, `${name} could not be read.`));
    const r = render(AttachmentChips, { props: { chips, onremove: () => {}, oncancel: () => {}, onview: () => {} } });
    const list = r.getByTestId("attachment-chips");
    expect(list.querySelectorAll("img, script, svg, b")).toHaveLength(0);
    const names = r.getAllByTestId("attachment-name").map((e) => e.textContent ?? "");
    expect(names[0]).toBe("<img src=x onerror=alert(1)>.png");
    expect(names[2]).toBe("⟦U+202E⟧gnp.exe");
    expect(names.every((n) => [...n].length <= 40)).toBe(true);
    expect(names.some((n) => /[\u202E\u200F\u0000]/.test(n))).toBe(false);
    const errors = r.getAllByTestId("attachment-error").map((e) => e.textContent ?? "");
    expect(errors[2]).toContain("⟦U+202E⟧gnp.exe");
    expect(errors.every((e) => !/[\u202E\u200F]/.test(e))).toBe(true);
  });

  it("an attaching chip spins and cancels; a ready one shows its size, thumbnail and remove; a document opens its text", async () => {
    const onremove = vi.fn();
    const oncancel = vi.fn();
    const onview = vi.fn();
    let chips = [C.attaching("a", "big.pdf"), C.attaching("b", "shot.png"), C.attaching("c", "notes.txt")];
    chips = C.settled(chips, "b", { part: image(), original_size: 3 * 1024 * 1024, notes: ["Downscaled from 6000×4000"] });
    chips = C.settled(chips, "c", { part: doc("hello", "notes.txt"), original_size: 5, notes: [] });
    const r = render(AttachmentChips, { props: { chips, onremove, oncancel, onview } });
    const items = r.getAllByTestId("attachment-chip");
    expect(items.map((e) => e.dataset.state)).toEqual(["attaching", "ready", "ready"]);
    expect(items[0]!.querySelector(".spinner")).not.toBeNull();
    expect(items[0]!.querySelector("[data-testid=attachment-remove]")).toBeNull();
    await fireEvent.click(items[0]!.querySelector("[data-testid=attachment-cancel]")!);
    expect(oncancel).toHaveBeenCalledWith("a");
    expect(items[1]!.querySelector("img")!.getAttribute("src")).toBe(`attachment://localhost/${SHA}?thumb`);
    expect(items[1]!.textContent).toContain("3.0 MB");
    expect(items[1]!.textContent).toContain("Downscaled from 6000×4000");
    expect(items[1]!.querySelector("[data-testid=attachment-view]")).toBeNull();
    await fireEvent.click(items[1]!.querySelector("[data-testid=attachment-remove]")!);
    expect(onremove).toHaveBeenCalledWith("b");
    await fireEvent.click(items[2]!.querySelector("[data-testid=attachment-view]")!);
    expect(onview).toHaveBeenCalledWith(expect.objectContaining({ name: "notes.txt", text: "hello" }));
  });
});

describe("the draft", () => {
  function fakeApi() {
    const waiting = new Map<string, { resolve: (a: C.Attachment) => void; reject: (e: unknown) => void }>();
    const api = {
      attachFile: vi.fn((_path: string, job: string) => new Promise<C.Attachment>((resolve, reject) => waiting.set(job, { resolve, reject }))),
      attachBytes: vi.fn((_n: string, _m: string, _d: string, job: string) => new Promise<C.Attachment>((resolve, reject) => waiting.set(job, { resolve, reject }))),
      cancelAttach: vi.fn(async () => null),
    };
    return { api, waiting };
  }

  it("attaches each dropped path once, settles, fails with the file's name, and cancels", async () => {
    const { api, waiting } = fakeApi();
    const d = new AttachmentDraft(api);
    const runs = d.addPaths(["/a/shot.png", "/a/shot.png", "", "/b/scan.pdf", "C:\\c\\gone.txt"]);
    expect(api.attachFile.mock.calls.map((c) => c[0])).toEqual(["/a/shot.png", "/b/scan.pdf", "C:\\c\\gone.txt"]);
    expect(d.shown.map((c) => c.name)).toEqual(["shot.png", "scan.pdf", "gone.txt"]);
    expect(d.busy).toBe(true);
    const [j1, j2, j3] = d.chips.map((c) => c.job);
    waiting.get(j1!)!.resolve({ part: image(), original_size: 10, notes: [] });
    waiting.get(j3!)!.reject({ message: "The file was deleted before it could be read." });
    d.cancel(j2!);
    expect(api.cancelAttach).toHaveBeenCalledWith(j2);
    waiting.get(j2!)!.resolve({ part: doc("late"), original_size: 1, notes: [] });
    await Promise.all(runs);
    expect(d.busy).toBe(false);
    expect(d.shown.map((c) => c.state)).toEqual(["ready", "failed"]);
    expect(d.shown[1]!.error).toBe("gone.txt: The file was deleted before it could be read.");
    expect(d.parts).toEqual([image()]);
    // Removing a ready chip cancels nothing; clearing empties the draft.
    d.remove(j1!);
    expect(api.cancelAttach).toHaveBeenCalledTimes(1);
    expect(d.parts).toEqual([]);
    d.clear();
    expect(d.chips).toEqual([]);
  });

  it("a pasted image travels as base64 with its name and type", async () => {
    const { api, waiting } = fakeApi();
    const d = new AttachmentDraft(api);
    const png = new File([new Uint8Array([137, 80, 78, 71])], "image.png", { type: "image/png" });
    const runs = d.addFiles([png]);
    await vi.waitFor(() => expect(api.attachBytes).toHaveBeenCalled());
    expect(api.attachBytes.mock.calls[0]!.slice(0, 3)).toEqual(["image.png", "image/png", "iVBORw=="]);
    waiting.get(d.chips[0]!.job)!.resolve({ part: image({ name: "" }), original_size: 4, notes: [] });
    await Promise.all(runs);
    expect(d.parts).toHaveLength(1);
  });
});

describe("attachments in the transcript", () => {
  it("an image is lazy, sized before it loads, and enlarges in an accessible lightbox", async () => {
    const r = render(AttachmentView, { props: { part: image(), load: async () => "" } });
    const button = r.getByTestId("attachment-image");
    const img = button.querySelector("img")!;
    expect(img.getAttribute("src")).toBe(`attachment://localhost/${SHA}`);
    expect(img.getAttribute("loading")).toBe("lazy");
    expect(img.getAttribute("decoding")).toBe("async");
    expect([img.getAttribute("width"), img.getAttribute("height")]).toEqual(["320", "180"]);
    expect(img.getAttribute("alt")).toBe("shot.png");
    expect(button.tagName).toBe("BUTTON");
    await fireEvent.click(button);
    const box = r.getByTestId("image-lightbox");
    expect(box.getAttribute("role")).toBe("dialog");
    expect(box.querySelector("img")!.getAttribute("alt")).toBe("shot.png");
    await tick();
    await Promise.resolve();
    expect(document.activeElement).toBe(r.getByTestId("image-lightbox-close"));
    await fireEvent.keyDown(box, { key: "Tab" });
    expect(document.activeElement).toBe(r.getByTestId("image-lightbox-close"));
    await fireEvent.keyDown(box, { key: "Escape" });
    expect(r.queryByTestId("image-lightbox")).toBeNull();
  });

  it("an image without stored bytes is a box of the same size saying so", () => {
    const r = render(AttachmentView, { props: { part: image({ sha256: "" }), load: async () => "" } });
    const box = r.getByTestId("attachment-image-missing");
    expect(box.textContent).toContain("not available");
    expect(box.style.width).toBe("320px");
    expect(r.container.querySelector("img")).toBeNull();
  });

  it("a document is a card with its kind, size and first lines, and opens its whole text", async () => {
    const text = "--- Page 1 ---\nQuarterly report\n\n--- Page 2 ---\nTotals";
    const load = vi.fn(async () => `${text}\n--- Page 3 ---\nThe clipped rest`);
    const r = render(AttachmentView, { props: { part: doc(text), fullLength: 9999, load } });
    const card = r.getByTestId("attachment-file");
    expect(card.textContent).toContain("report.pdf");
    expect(card.textContent).toContain("PDF · 2 pages · 9,999 characters");
    expect(card.textContent).toContain("Quarterly report");
    await fireEvent.click(card);
    await vi.waitFor(() => expect(r.getByTestId("attachment-text-body").textContent).toContain("The clipped rest"));
    expect(load).toHaveBeenCalledTimes(1);
    expect(r.getByTestId("attachment-text").textContent).toContain("3 pages");
    await fireEvent.click(r.getByTestId("attachment-text-close"));
    expect(r.queryByTestId("attachment-text")).toBeNull();
  });

  it("a huge document's text is shown in pieces", async () => {
    const text = "line of text\n".repeat(40_000);
    const r = render(AttachmentView, { props: { part: doc(text, "big.log"), load: async () => text } });
    await fireEvent.click(r.getByTestId("attachment-file"));
    const body = r.getByTestId("attachment-text-body");
    expect(body.textContent!.length).toBeLessThanOrEqual(200_000);
    for (let i = 0; i < 5 && r.queryByTestId("attachment-text-more"); i++) await fireEvent.click(r.getByTestId("attachment-text-more"));
    expect(r.getByTestId("attachment-text-body").textContent!.length).toBe(text.length);
    expect(r.queryByTestId("attachment-text-more")).toBeNull();
  });
});

describe("model output never loads an attachment or a remote image", () => {
  it.each([
    `![x](attachment://localhost/${SHA})`,
    `![x](http://attachment.localhost/${SHA})`,
    "![x](https://evil.example/track.png)",
    `<img src="attachment://localhost/${SHA}">`,
    "![x](data:image/png;base64,iVBORw0KGgo=)",
  ])("%s", (md) => {
    const html = renderMarkdown(md);
    const box = document.createElement("div");
    box.innerHTML = html;
    expect(box.querySelectorAll("img")).toHaveLength(0);
    expect(html).not.toMatch(/<img/i);
  });
});
