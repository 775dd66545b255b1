import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

describe("markdown sanitization", () => {
  const hostile = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    "[click](javascript:window.__pwned=1)",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload="window.__pwned=1"></svg>',
    "![tracker](https://evil.example/pixel.png)",
    '<style>body{display:none}</style><form action="https://evil.example"><input name=x></form>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  ];

  it.each(hostile)("renders %s inert", (input) => {
    for (const streaming of [false, true]) {
      const el = dom(renderMarkdown(input, streaming));
      expect(el.querySelectorAll("script, iframe, img, svg, style, form, object, embed")).toHaveLength(0);
      for (const a of el.querySelectorAll("a")) {
        const href = a.getAttribute("href");
        if (href !== null) expect(href).toMatch(/^(https?:|mailto:)/);
      }
      for (const node of el.querySelectorAll("*")) {
        for (const attr of node.attributes) expect(attr.name.startsWith("on")).toBe(false);
      }
    }
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("shows raw HTML as text and remote images as links, not loads", () => {
    const el = dom(renderMarkdown('<b>bold?</b> ![cat](https://example.com/cat.png)'));
    expect(el.textContent).toContain("<b>bold?</b>");
    const link = el.querySelector("a.image-link");
    expect(link?.getAttribute("href")).toBe("https://example.com/cat.png");
  });

  it("highlights code with a copy button and keeps safe links", () => {
    const el = dom(renderMarkdown("```rust\nfn main() {}\n```\n\nSee [docs](https://docs.rs) or [mail](mailto:a@b.c)."));
    expect(el.querySelector(".code-block [data-copy]")).not.toBeNull();
    expect(el.querySelector("code.hljs")?.innerHTML).toContain("hljs-keyword");
    expect([...el.querySelectorAll("a")].map((a) => a.getAttribute("href"))).toEqual(["https://docs.rs", "mailto:a@b.c"]);
  });

  it("closes half-written markdown while streaming", () => {
    const el = dom(renderMarkdown("This is **bold", true));
    expect(el.querySelector("strong")?.textContent).toBe("bold");
  });
});
