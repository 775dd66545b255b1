import { describe, expect, it } from "vitest";
import { artifactsOf, blocks, previewKind } from "./find";
import type { Message } from "../types";

describe("previewable blocks", () => {
  it("are found as the renderer sees fences (the same table as the core's)", () => {
    const cases: [string, [string, string][]][] = [
      ["```html\n<p>hi</p>\n```", [["html", "<p>hi</p>"]]],
      ["```HTML title=x\n<b>x</b>\n```", [["html", "<b>x</b>"]]],
      ["~~~svg\n<svg></svg>\n~~~", [["svg", "<svg></svg>"]]],
      ['```xml\n<?xml version="1.0"?>\n<!-- c -->\n<svg/>\n```', [["svg", '<?xml version="1.0"?>\n<!-- c -->\n<svg/>']]],
      ["```xml\n<note/>\n```", []],
      ["```mermaid\ngraph TD; A-->B\n```", [["mermaid", "graph TD; A-->B"]]],
      ["```rust\nfn main() {}\n```", []],
      ["```\n<p>no language</p>\n```", []],
      ["```html\n\n   \n```", []],
      ["````html\n```\n<p/>\n````", [["html", "```\n<p/>"]]],
      ["```html\n<p>\n~~~\nmore", [["html", "<p>\n~~~\nmore"]]],
      ["    ```html\n    <p/>\n    ```", []],
      ["   ```html\n<p/>\n   ```", [["html", "<p/>"]]],
      ["```html\n<p/>\n``` not yet\n```", [["html", "<p/>\n``` not yet"]]],
      ["use ```html``` here", []],
      // Inside a list or a quote, with the text the renderer shows.
      ["- item\n\n    ```html\n    <p/>\n    ```", [["html", "<p/>"]]],
      ["> ```svg\n> <svg/>\n> ```", [["svg", "<svg/>"]]],
      ["```html\r\n<p/>\r\n```", [["html", "<p/>"]]],
    ];
    for (const [md, want] of cases) {
      expect(blocks(md).map((b) => [b.kind, b.source]), md).toEqual(want);
    }
  });
  it("know their kind by language", () => {
    expect(previewKind("htm", "")).toBe("html");
    expect(previewKind("js", "<svg/>")).toBeNull();
    expect(previewKind("xml", "  <SVG/>")).toBe("svg");
  });
  it("are gathered from the answers only, in order", () => {
    const msg = (id: string, role: "user" | "assistant", text: string) => ({ id, role, parts: [{ type: "text", text }] }) as unknown as Message;
    const found = artifactsOf([msg("u", "user", "```html\n<i/>\n```"), msg("a1", "assistant", "```svg\n<svg/>\n```"), msg("a2", "assistant", "```html\n<b/>\n```")]);
    expect(found.map((a) => [a.messageId, a.kind])).toEqual([["a1", "svg"], ["a2", "html"]]);
  });
});

describe("the Preview button", () => {
  it("is on finished HTML, SVG and Mermaid blocks only, and a model cannot forge one", async () => {
    const { renderMarkdown } = await import("../chats/markdown");
    const kinds = (html: string) => {
      const box = document.createElement("div");
      box.innerHTML = html;
      return [...box.querySelectorAll("[data-preview]")].map((b) => b.getAttribute("data-preview"));
    };
    expect(kinds(renderMarkdown("```html\n<p/>\n```\n\n```svg\n<svg/>\n```\n\n```mermaid\ngraph TD\n```\n\n```js\nx\n```"))).toEqual(["html", "svg", "mermaid"]);
    expect(kinds(renderMarkdown("```html\n<p/>\n```", true))).toEqual([]);
    const forged = renderMarkdown('<button data-preview="html">Preview</button> and <div data-preview="svg"></div>');
    expect(kinds(forged)).toEqual([]);
  });
});
