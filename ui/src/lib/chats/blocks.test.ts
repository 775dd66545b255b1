import { describe, expect, it, vi } from "vitest";
import { BlockRenderer, cost, headOf } from "./blocks";
import { renderMarkdown } from "./markdown";

/** A renderer that records what it was asked to render. */
function recording() {
  const calls: Array<{ source: string; streaming: boolean }> = [];
  const r = new BlockRenderer((source, streaming) => {
    calls.push({ source, streaming });
    return `[${streaming ? "~" : ""}${source}]`;
  });
  return { r, calls };
}

const DOC = [
  "# Title\n\n",
  "First paragraph with *emphasis*\nand a second line.\n\n",
  "```rust\nfn main() {\n\n    println!(\"hi\");\n}\n```\n",
  "- one\n- two\n\n- three (loose)\n\n",
  "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
  "> quoted\n\n",
  "Last words.",
].join("");

describe("block rendering", () => {
  it("a short finished text is rendered in one piece", () => {
    const { r, calls } = recording();
    const { blocks } = r.update(DOC, true);
    expect(blocks).toEqual([{ key: "w", html: `[${DOC}]` }]);
    r.update(DOC, true);
    expect(calls).toHaveLength(1);
  });

  it("cuts at blank lines, keeps fences, loose lists and tables whole", () => {
    const { r } = recording();
    // Streamed a character at a time, each block is rendered on its own as it is finished.
    for (let i = 1; i <= DOC.length; i++) r.update(DOC.slice(0, i), false);
    const { blocks, done } = r.update(DOC, true);
    expect(done).toBe(true);
    const sources = blocks.map((b) => b.html.slice(1, -1));
    expect(sources).toEqual([
      "# Title\n\n",
      "First paragraph with *emphasis*\nand a second line.\n\n",
      "```rust\nfn main() {\n\n    println!(\"hi\");\n}\n```\n",
      "- one\n- two\n\n- three (loose)\n\n",
      "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
      "> quoted\n\n",
      "Last words.",
    ]);
  });

  it("a delta never re-renders finished blocks: each is rendered once, only the tail again", () => {
    const { r, calls } = recording();
    // Stream the document a few characters at a time.
    for (let i = 1; i <= DOC.length; i += 3) r.update(DOC.slice(0, i), false);
    r.update(DOC, false);
    const { blocks } = r.update(DOC, true);
    const finals = calls.filter((c) => !c.streaming).map((c) => c.source);
    // Every finished block was rendered exactly once, in final (highlighted) form.
    expect(finals).toEqual(blocks.map((b) => b.html.slice(1, -1)));
    // Streaming renders only ever saw the tail: never a finished block's text before it.
    for (const c of calls.filter((c) => c.streaming)) {
      expect(c.source.length).toBeLessThan(60);
    }
  });

  it("the work per update is the tail, not the whole answer", () => {
    const { r, calls } = recording();
    let text = "";
    for (let i = 0; i < 2000; i++) {
      text += `Paragraph ${i} with some words in it.\n\n`;
      r.update(text, false);
    }
    const rendered = calls.reduce((n, c) => n + c.source.length, 0);
    // Quadratic would be ~2000 × 80 KB; block rendering is a few times the text.
    expect(rendered).toBeLessThan(text.length * 3);
  });

  it("a code block is highlighted when its fence closes, not while it streams", () => {
    const { r, calls } = recording();
    const code = "```python\nprint(1)\n";
    r.update(code, false);
    expect(calls.at(-1)).toEqual({ source: code, streaming: true });
    r.update(code + "```\nAfter", false);
    expect(calls.some((c) => c.source === code + "```\n" && !c.streaming)).toBe(true);
  });

  it("renders the same HTML as the whole document for block-separated markdown", () => {
    const doc = "# H\n\nSome **bold** text.\n\n```js\nlet a = 1;\n```\n\n1. x\n2. y\n\nEnd.\n";
    const r = new BlockRenderer(renderMarkdown);
    r.update("", false);
    const html = r.update(doc, true).blocks.map((b) => b.html).join("");
    const strip = (s: string) => s.replace(/\s+/g, "");
    expect(strip(html)).toBe(strip(renderMarkdown(doc)));
  });

  it("long text is rendered in slices when a deadline is given", () => {
    const big = Array.from({ length: 5000 }, (_, i) => `Line ${i} of a very long answer.\n\n`).join("");
    const { r } = recording();
    let rounds = 0;
    let out;
    do {
      out = r.update(big, true, performance.now() - 1); // already past: one step per call
      rounds++;
    } while (!out.done && rounds < 100_000);
    // A deadline already past still makes progress: one block per call.
    expect(rounds).toBeGreaterThan(4000);
    expect(out.blocks.map((b) => b.html.slice(1, -1)).join("")).toBe(big);
  });

  it("sizes each slice to what fits before the deadline, at the rate it has learned", () => {
    const big = Array.from({ length: 5000 }, (_, i) => `Line ${i} of a very long answer.\n\n`).join("");
    const saved = cost.msPerChar;
    try {
      // Rendering here "costs" 1 ms per 100 characters: a 10 ms slice holds ~1,000.
      let clock = 0;
      const spy = vi.spyOn(performance, "now").mockImplementation(() => clock);
      const r = new BlockRenderer((src) => {
        clock += src.length / 100;
        return `[${src}]`;
      });
      cost.msPerChar = 0.01;
      const slices: number[] = [];
      let out;
      let prev: unknown[] = [];
      do {
        const before = clock;
        out = r.update(big, true, clock + 10);
        slices.push(clock - before);
        // Each slice hands out a new, longer list (callers see a change by identity).
        expect(out.blocks).not.toBe(prev);
        expect(out.blocks.length).toBeGreaterThan(prev.length);
        prev = out.blocks;
        if (!out.done) expect(big.slice(0, out.upTo)).toBe(out.blocks.map((b) => b.html.slice(1, -1)).join(""));
      } while (!out.done);
      spy.mockRestore();
      expect(slices.length).toBeGreaterThan(50);
      // No slice overruns its frame by more than one block (~35 characters, 0.35 ms).
      expect(Math.max(...slices)).toBeLessThan(10.5);
      expect(out.blocks.map((b) => b.html.slice(1, -1)).join("")).toBe(big);
    } finally {
      cost.msPerChar = saved;
    }
  });

  it("a long streaming tail is formatted at a pace it can afford; new words show at once", () => {
    let clock = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => clock);
    const esc = (t: string) => t.replaceAll("<", "&lt;").replaceAll(">", "&gt;");
    try {
      let formats = 0;
      // Formatting costs 10 ms; a word arrives every 5 ms.
      const r = new BlockRenderer((src, streaming) => {
        formats++;
        clock += 10;
        return `<p>${streaming ? "~" : ""}${esc(src)}</p>\n`;
      });
      let text = "Intro.\n\n";
      let out = r.update(text, false);
      const stale: number[] = [];
      for (let i = 0; i < 60; i++) {
        clock += 5;
        text += `w${i} <x> `;
        out = r.update(text, false);
        const tail = out.blocks.at(-1)!.html;
        // Every word is on screen after each update, escaped, inside the paragraph.
        expect(tail).toContain(`w${i} &lt;x&gt; </p>`);
        if (!out.done) stale.push(i);
      }
      // 60 words in 300 ms plus formatting: at most one formatting per 30 ms of the stream.
      expect(formats).toBeLessThan(25);
      expect(stale.length).toBeGreaterThan(20);
      // When the stream pauses, the caller's next frames format what is waiting.
      for (let k = 0; k < 10 && !out.done; k++) {
        clock += 16;
        out = r.update(text, false);
      }
      expect(out.done).toBe(true);
      expect(out.blocks.at(-1)!.html).toBe(`<p>~${esc(text)}</p>\n`);
      // The end renders it as finished.
      expect(r.update(text, true).blocks.at(-1)!.html.startsWith("<p>w0")).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("a short finished text is rendered whole only when it fits the deadline", () => {
    const saved = cost.msPerChar;
    try {
      cost.msPerChar = 1; // very slow: 1 ms per character
      const { r } = recording();
      const text = "One.\n\nTwo.\n\nThree.\n";
      const first = r.update(text, true, performance.now() + 5);
      expect(first.done).toBe(false);
      expect(first.upTo).toBeGreaterThan(0);
      cost.msPerChar = 0.000001;
      const { r: fast } = recording();
      expect(fast.update(text, true, performance.now() + 5).blocks).toHaveLength(1);
    } finally {
      cost.msPerChar = saved;
    }
  });

  it("starts over when the text is not an extension of the last one", () => {
    const { r } = recording();
    r.update("Alpha\n\nBeta\n\nGam", false);
    const { blocks } = r.update("Other\n\nText\n", false);
    expect(blocks.map((b) => b.html)).toEqual(["[Other\n\n]", "[~Text\n]"]);
  });

  it.each([
    ["a bare fence", "Intro.\n\n```\ncode\n\nmore code\n```\n\n", "```\ncode\n\nmore code\n```\n"],
    ["a tilde fence", "Intro.\n\n~~~\na\n\nb\n~~~\n\n", "~~~\na\n\nb\n~~~\n"],
    ["display math in $$", "Intro.\n\n$$\na\n\nb\n$$\n\n", "$$\na\n\nb\n$$\n\n"],
    ["display math in \\[", "Intro.\n\n\\[\na\n\nb\n\\]\n\n", "\\[\na\n\nb\n\\]\n\n"],
  ])("%s after a paragraph is one block, blank lines and all", (_name, head, block) => {
    const text = `${head}Then.`;
    const { r, calls } = recording();
    for (let i = 1; i <= text.length; i++) r.update(text.slice(0, i), false);
    r.update(text, true);
    const finals = calls.filter((c) => !c.streaming).map((c) => c.source);
    expect(finals).toEqual(["Intro.\n\n", block, "Then."]);
  });

  it("headOf cuts long text at a paragraph boundary", () => {
    const text = "a".repeat(600) + "\n\n" + "b".repeat(600);
    expect(headOf(text, 1000)).toBe("a".repeat(600));
    expect(headOf("short", 1000)).toBe("short");
    expect(headOf("x".repeat(3000), 1000)).toHaveLength(1000);
  });
});
