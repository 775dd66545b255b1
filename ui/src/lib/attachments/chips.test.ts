import { describe, expect, it } from "vitest";
import * as C from "./chips";
import { attachmentUrl, imageSource } from "./api";
import { firstLines, fitImage, languageOf, textSummary, viewSlice } from "./text";
import { nextFocus } from "./focus";

const SHA = "a".repeat(64);
const image = (over: Partial<C.ImagePart> = {}): C.ImagePart => ({ type: "image", mime: "image/png", sha256: SHA, name: "shot.png", width: 800, height: 600, size: 1234, ...over });
const file = (over: Partial<C.FilePart> = {}): C.FilePart => ({ type: "file", name: "notes.md", mime: "text/markdown", text: "# hi\nthere", ...over });
const done = (part: C.AttachedPart, original_size = 5000, notes: string[] = []): C.Attachment => ({ part, original_size, notes });

describe("chip states", () => {
  it("attaching → ready keeps the order, takes the size and notes, and its part is sent", () => {
    let chips = [C.attaching("a", "shot.png"), C.attaching("b", "notes.md")];
    expect(C.busy(chips)).toBe(true);
    chips = C.settled(chips, "b", done(file(), 10, ["Inlined as Markdown"]));
    chips = C.settled(chips, "a", done(image(), 9000));
    expect(chips.map((c) => c.state)).toEqual(["ready", "ready"]);
    expect(chips[0]!.size).toBe(9000);
    expect(chips[1]!.notes).toEqual(["Inlined as Markdown"]);
    expect(C.busy(chips)).toBe(false);
    expect(C.partsOf(chips).map((p) => p.type)).toEqual(["image", "file"]);
  });

  it("attaching → failed shows a sentence naming the file, and sends nothing of it", () => {
    const cases: [string, string, string][] = [
      ["big.png", "The image is larger than 50 MB.", "big.png: The image is larger than 50 MB."],
      ["scan.pdf", "scan.pdf has no text layer (scanned?).", "scan.pdf has no text layer (scanned?)."],
      ["x.bin", "", "x.bin: Parley could not attach this file."],
      ["", "Not an image.", "Pasted image: Not an image."],
    ];
    for (const [name, message, want] of cases) {
      const chips = C.failed([C.attaching("j", name)], "j", message);
      expect(chips[0]!.state).toBe("failed");
      expect(chips[0]!.error).toBe(want);
      expect(C.partsOf(chips)).toEqual([]);
      expect(C.busy(chips)).toBe(false);
    }
  });

  it("a cancelled chip is gone from view, and its late answer or failure changes nothing", () => {
    let chips = C.cancelled([C.attaching("j", "a.pdf"), C.attaching("k", "b.pdf")], "j");
    expect(C.shown(chips).map((c) => c.job)).toEqual(["k"]);
    chips = C.settled(chips, "j", done(file()));
    chips = C.failed(chips, "j", "cancelled");
    expect(chips[0]!.state).toBe("cancelled");
    expect(C.partsOf(chips)).toEqual([]);
    expect(C.busy(chips)).toBe(true);
  });

  it("a settled chip is not settled again, and removing works in every state", () => {
    let chips = C.settled([C.attaching("j", "a.png")], "j", done(image()));
    chips = C.failed(chips, "j", "late failure");
    expect(chips[0]!.state).toBe("ready");
    const all = [C.attaching("a", "1"), ...chips, C.failed([C.attaching("f", "3")], "f", "no")[0]!];
    for (const job of ["a", "j", "f"]) expect(C.removed(all, job).map((c) => c.job)).not.toContain(job);
    expect(C.removed(all, "nope")).toHaveLength(3);
  });

  it("a result that is neither an image nor a file fails the chip", () => {
    const chips = C.settled([C.attaching("j", "a.txt")], "j", { part: { type: "text", text: "x" }, original_size: 1, notes: [] });
    expect(chips[0]!.state).toBe("failed");
  });

  it("a pasted image without a name takes the name the core gave it", () => {
    const chips = C.settled([C.attaching("j", "")], "j", done(image({ name: "" }), 0));
    expect(chips[0]!.size).toBe(1234);
    expect(C.labelOf(chips[0]!.name)).toBe("Pasted image");
  });
});

describe("sizes", () => {
  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 KB"],
    [1536, "1.5 KB"],
    [12 * 1024, "12 KB"],
    [1024 * 1024 - 1, "1024 KB"],
    [3.4 * 1024 * 1024, "3.4 MB"],
    [50 * 1024 * 1024, "50 MB"],
    [2 * 1024 ** 3, "2.0 GB"],
    [5 * 1024 ** 5, "5120 TB"],
    [null, ""],
    [-1, ""],
    [Number.NaN, ""],
    [Number.POSITIVE_INFINITY, ""],
  ])("%s bytes → %j", (n, want) => {
    expect(C.formatSize(n)).toBe(want);
  });
});

describe("dropped and picked paths", () => {
  it.each([
    ["/home/a/shot.png", "shot.png"],
    ["C:\\Users\\a\\report.pdf", "report.pdf"],
    ["/tmp/dir/", "dir"],
    ["relative.txt", "relative.txt"],
    ["/a b/c d.txt", "c d.txt"],
    ["\\\\server\\share\\x.log", "x.log"],
    ["/", ""],
    ["", ""],
  ])("%j is called %j", (path, want) => {
    expect(C.fileName(path)).toBe(want);
  });

  it("each path once, in order, without empty ones", () => {
    expect(C.droppedPaths(["/a.png", "", "/b.pdf", "/a.png", "/", "C:\\c.txt"])).toEqual(["/a.png", "/b.pdf", "C:\\c.txt"]);
    expect(C.droppedPaths([])).toEqual([]);
  });
});

describe("paste", () => {
  const item = (kind: string, type: string, f: File | null = new File(["x"], "image.png", { type })): C.ClipItem => ({ kind, type, getAsFile: () => f });

  it("takes raster images only: text, HTML, SVG, PDFs and other files are left alone", () => {
    const items = [
      item("string", "text/plain"),
      item("string", "text/html"),
      item("file", "image/png"),
      item("file", "image/svg+xml"),
      item("file", "application/pdf"),
      item("file", "IMAGE/JPEG"),
      item("file", "image/webp"),
      item("file", "image/gif"),
      item("file", "image/tiff"),
      item("file", "image/png", null),
      item("string", "image/png"),
    ];
    expect(C.pastedImages(items)).toHaveLength(4);
    expect(C.pastedImages(null)).toEqual([]);
    expect(C.pastedImages([])).toEqual([]);
  });

  it("base64 of bytes of any length, the same as btoa", () => {
    for (const n of [0, 1, 2, 3, 100, 0x8000, 0x8000 + 7, 200_000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31) % 256);
      let bin = "";
      for (const b of bytes) bin += String.fromCharCode(b);
      const want = btoa(bin);
      expect(C.toBase64(bytes)).toBe(want);
    }
  });
});

describe("hostile names are labelled inertly", () => {
  it.each([
    ["\u202Egnp.exe", "⟦U+202E⟧gnp.exe"],
    ["a\u200Bb.png", "a⟦U+200B⟧b.png"],
    ["line\nbreak.txt", "line⟦U+000A⟧break.txt"],
    ["tab\tname\r.txt", "tab⟦U+0009⟧name⟦U+000D⟧.txt"],
    ["<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"],
  ])("%j → %j", (name, want) => {
    expect(C.labelOf(name, 200)).toBe(want);
  });

  it("a 500-character name is cut to the most characters, keeping its extension", () => {
    const label = C.labelOf(`${"n".repeat(500)}.pdf`);
    expect([...label].length).toBe(40);
    expect(label.endsWith("….pdf")).toBe(true);
    const emoji = C.labelOf("😀".repeat(300));
    expect([...emoji].length).toBe(40);
  });
});

describe("where images come from", () => {
  it("only a stored image's address, thumbnail or whole, per platform", () => {
    expect(attachmentUrl(SHA, false, false)).toBe(`attachment://localhost/${SHA}`);
    expect(attachmentUrl(SHA, true, false)).toBe(`attachment://localhost/${SHA}?thumb`);
    expect(attachmentUrl(SHA, false, true)).toBe(`http://attachment.localhost/${SHA}`);
    for (const bad of ["", "../x", `${SHA}/../../etc`, SHA.toUpperCase(), "a".repeat(63), `${SHA}?x`, "https://evil.example/a.png", null, undefined]) {
      expect(attachmentUrl(bad, false, false)).toBeNull();
    }
  });

  it("an older inline image shows as a data: URL of a raster type only", () => {
    expect(imageSource({ mime: "image/png", data: "iVBORw0KGgo=" })).toBe("data:image/png;base64,iVBORw0KGgo=");
    expect(imageSource({ mime: "image/svg+xml", data: "PHN2Zz4=" })).toBeNull();
    expect(imageSource({ mime: "image/png", data: '"><script>' })).toBeNull();
    expect(imageSource({ mime: "image/png", data: null })).toBeNull();
    expect(imageSource({ mime: "text/html", sha256: "nope", data: "PGI+" })).toBeNull();
    expect(imageSource({ mime: "image/png", sha256: SHA, data: "iVBORw0KGgo=" }, true)).toContain("?thumb");
  });
});

describe("documents", () => {
  it("a card's first lines skip blank ones and are cut to width", () => {
    expect(firstLines("\n\n--- Page 1 ---\nHello\n\n  \nWorld\nmore")).toEqual(["--- Page 1 ---", "Hello", "World"]);
    expect(firstLines(`${"x".repeat(500)}\n`, 3, 10)).toEqual([`${"x".repeat(10)}…`]);
    expect(firstLines("")).toEqual([]);
    // A huge single line is read from its start only.
    expect(firstLines("y".repeat(5_000_000), 1, 5)).toEqual(["yyyyy…"]);
  });

  it("the kind comes from the extension, then the MIME type", () => {
    expect(languageOf("main.RS", "text/plain")).toBe("Rust");
    expect(languageOf("scan", "application/pdf")).toBe("PDF");
    expect(languageOf("x.unknown", "text/plain")).toBe("Text");
    expect(languageOf("x.constructor", "text/plain")).toBe("Text");
    expect(languageOf("x.__proto__", "text/plain")).toBe("Text");
  });

  it("the summary counts page markers and characters", () => {
    expect(textSummary("--- Page 1 ---\na\n--- Page 2 ---\nb")).toBe("2 pages · 33 characters");
    expect(textSummary("abc", 123456)).toBe("123,456 characters");
    expect(textSummary("--- Page 1 ---")).toBe("1 page · 14 characters");
  });

  it("the viewer shows long text in pieces cut at line ends", () => {
    const text = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
    const s = viewSlice(text, 100);
    expect(s.text.endsWith("\n")).toBe(true);
    expect(s.text.length + s.rest).toBe(text.length);
    expect(viewSlice("short", 100)).toEqual({ text: "short", rest: 0 });
    const one = viewSlice("z".repeat(10_000), 5000);
    expect(one).toEqual({ text: "z".repeat(5000), rest: 5000 });
  });

  it("an image's box is known before it loads and fits the transcript's", () => {
    expect(fitImage(800, 600)).toEqual({ width: 320, height: 240 });
    expect(fitImage(100, 50)).toEqual({ width: 100, height: 50 });
    expect(fitImage(100, 10_000)).toEqual({ width: 2, height: 240 });
    expect(fitImage(100_000, 1)).toEqual({ width: 320, height: 1 });
    expect(fitImage(0, 0)).toEqual({ width: 320, height: 240 });
    expect(fitImage(undefined, 5)).toEqual({ width: 320, height: 240 });
  });
});

describe("focus inside a dialog", () => {
  it("Tab goes round, Shift+Tab goes back round", () => {
    const items = ["close", "more", "text"];
    expect(nextFocus(items, "close", false)).toBe("more");
    expect(nextFocus(items, "text", false)).toBe("close");
    expect(nextFocus(items, "close", true)).toBe("text");
    expect(nextFocus(items, null, false)).toBe("close");
    expect(nextFocus(items, "outside", true)).toBe("text");
    expect(nextFocus([], null, false)).toBeNull();
  });
});
