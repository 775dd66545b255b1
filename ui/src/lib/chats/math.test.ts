import { describe, expect, it } from "vitest";
import { BlockRenderer } from "./blocks";
import { renderMarkdown } from "./markdown";
import { cleanStyle, MAX_FORMULA, sanitizeKatex } from "./math";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

/** The properties KaTeX writes in its inline styles (and nothing else may appear). */
const KATEX_PROPS = /^(background-color|border-bottom-width|border-color|border-right-style|border-right-width|border-top-width|border-style|border-width|bottom|color|height|left|margin|margin-left|margin-right|margin-top|min-width|padding-left|position|text-shadow|top|width|vertical-align)$/;

/** Nothing in `el` runs, loads, navigates or restyles the window. */
function expectInert(el: HTMLElement) {
  expect(el.querySelectorAll("script, iframe, img, image, object, embed, style, form, foreignObject, use, a[href], link, meta, base")).toHaveLength(0);
  for (const node of el.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      expect(attr.name.startsWith("on"), `${node.tagName} ${attr.name}`).toBe(false);
      if (attr.name !== "xmlns") expect(attr.value, `${node.tagName} ${attr.name}`).not.toMatch(/^\s*(javascript|data|https?|vbscript):/i);
      expect(["href", "xlink:href", "src", "srcset", "action", "formaction", "id"]).not.toContain(attr.name);
    }
    const style = node.getAttribute("style");
    if (style === null) continue;
    // Styles only inside KaTeX's output, only its properties, plain values.
    expect(node.closest(".katex"), `style outside KaTeX: ${style}`).not.toBeNull();
    for (const decl of style.split(";").filter((d) => d.trim())) {
      const [prop, value] = [decl.slice(0, decl.indexOf(":")).trim(), decl.slice(decl.indexOf(":") + 1).trim()];
      expect(prop).toMatch(KATEX_PROPS);
      expect(value).toMatch(/^[-+\w.#% ]*$/);
      if (prop === "position") expect(value).toBe("relative");
    }
  }
  expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
}

/** Every em length in the styles of `el` (a capped \rule stays small). */
function emLengths(el: HTMLElement): number[] {
  return [...el.querySelectorAll("[style]")].flatMap((n) => [...(n.getAttribute("style") ?? "").matchAll(/(-?[\d.]+)em/g)].map((m) => Math.abs(Number(m[1]))));
}

describe("math: hostile LaTeX renders inert or as its source", () => {
  const deep = (open: string, close: string, n: number) => `$${open.repeat(n)}x${close.repeat(n)}$`;
  const hostile: Array<[string, string]> = [
    ["\\def loop", "$\\def\\a{\\a}\\a$"],
    ["\\def doubling", "$$\\def\\a{\\a\\a}\\a$$"],
    ["\\gdef recursion", "$\\gdef\\a{\\a\\a\\a\\a}\\a$"],
    ["\\newcommand recursion", "$\\newcommand{\\x}{\\x\\x}\\x$"],
    ["\\renewcommand to \\href", "$\\renewcommand{\\frac}{\\href{javascript:window.__pwned=1}{x}}\\frac12$"],
    ["macro hiding \\href", "\\(\\def\\h{\\href}\\h{javascript:window.__pwned=1}{x}\\)"],
    ["\\href javascript", "$\\href{javascript:window.__pwned=1}{click}$"],
    ["\\href data", "$$\\href{data:text/html,<script>window.__pwned=1</script>}{x}$$"],
    ["\\href https", "$\\href{https://evil.example}{x}$"],
    ["\\url javascript", "\\(\\url{javascript:window.__pwned=1}\\)"],
    ["\\url https", "\\[\\url{https://evil.example/track}\\]"],
    ["\\htmlClass", "$\\htmlClass{evil}{x}$"],
    ["\\htmlId", "$\\htmlId{app}{x}$"],
    ["\\htmlStyle", "$\\htmlStyle{position:fixed;inset:0;background:url(https://evil.example)}{x}$"],
    ["\\htmlData", "$\\htmlData{copy=1, foo=bar}{x}$"],
    ["\\includegraphics", "$\\includegraphics[height=1em]{https://evil.example/pixel.png}$"],
    ["\\color with CSS", "$\\color{red;background:url(https://evil.example)}{x}$"],
    ["\\textcolor javascript", "$\\textcolor{javascript:window.__pwned=1}{x}$"],
    ["\\colorbox CSS", "$\\colorbox{red;position:fixed}{x}$"],
    ["huge \\rule", "$\\rule{100000em}{100000em}$"],
    ["huge \\kern", "$a\\kern{99999em}b$"],
    ["huge \\hspace", "$$a\\hspace{1e6em}b$$"],
    ["huge \\raisebox", "$\\raisebox{99999em}{x}$"],
    ["script in text", "$\\text{<script>window.__pwned=1</script>}$"],
    ["img in text", "$\\text{<img src=x onerror=\"window.__pwned=1\">}$"],
    ["\\verb with markup", "$\\verb|<img src=x onerror=alert(1)>|$"],
    ["tags as relations", "$<script>window.__pwned=1</script>$"],
    ["\\operatorname markup", "$\\operatorname{<b onclick=alert(1)>}$"],
    ["\\html@mathml", "$\\html@mathml{<a href=javascript:alert(1)>x</a>}{y}$"],
    ["\\style (MathJax)", "$\\style{color:red}{x}$"],
    ["\\unicode (MathJax)", "$\\unicode{x3C}script$"],
    ["deep braces", deep("{", "}", 2500)],
    ["deep \\sqrt", deep("\\sqrt{", "}", 400)],
    ["deep exponents", deep("x^{", "}", 600)],
    ["deep \\left(", deep("\\left(", "\\right)", 500)],
    ["unbalanced braces", "$\\frac{a}{b$ and more"],
    ["unbalanced \\left", "$$\\left( x$$"],
    ["open \\begin", "$\\begin{matrix} a$"],
    ["\\end without begin", "\\[\\end{matrix}\\]"],
    ["unclosed \\(", "\\(x + 1"],
    ["unclosed $$", "$$x + 1"],
    ["\\char", "$\\char\"3C\\char\"73cript$"],
    // Short formulas whose macros expand into work that grows much faster than its output.
    ["\\newcommand of 1,500 letters used 60 times", `$\\newcommand\\a{${"a".repeat(1500)}}${"\\a".repeat(60)}$`],
    ["\\def of 6,500 letters used 480 times", `$$\\def\\a{${"a".repeat(6500)}}${"\\a".repeat(100)}$$`],
    ["\\let alias", "$\\let\\b\\frac\\b12$"],
    ["\\expandafter chain", `$${"\\expandafter".repeat(200)}x$`],
    ["\\csname", "$\\csname href\\endcsname{javascript:alert(1)}{x}$"],
    ["a matrix of 3,900 cells", `$$\\begin{matrix}${Array.from({ length: 60 }, () => "a&".repeat(64) + "a").join("\\\\")}\\end{matrix}$$`],
  ];

  it.each(hostile)("%s", (_name, input) => {
    for (const streaming of [false, true]) {
      const t0 = performance.now();
      const el = dom(renderMarkdown(input, streaming));
      expect(performance.now() - t0).toBeLessThan(2000);
      expectInert(el);
      expect(Math.max(0, ...emLengths(el))).toBeLessThanOrEqual(40);
    }
  });

  it("a formula that defines commands or has too many cells shows as its source, quickly", () => {
    for (const input of [
      `$\\def\\a{${"a".repeat(6500)}}${"\\a".repeat(480)}$`,
      "$\\gdef\\x{1}\\x$",
      `$$\\begin{matrix}${"a&".repeat(700)}a\\end{matrix}$$`,
    ]) {
      const t0 = performance.now();
      const el = dom(renderMarkdown(input, false));
      expect(performance.now() - t0).toBeLessThan(500);
      expect(el.querySelector(".katex")).toBeNull();
      expect(el.textContent).toContain(input.slice(1, 40));
    }
    // Ordinary matrices and macros KaTeX defines itself still render.
    expect(dom(renderMarkdown("$$\\begin{pmatrix}a&b\\\\c&d\\end{pmatrix}$$", false)).querySelector(".katex")).not.toBeNull();
    expect(dom(renderMarkdown("$\\R \\neq \\dots$", false)).querySelector(".katex")).not.toBeNull();
  });

  it("a formula that fails to parse shows its source, escaped, with why", () => {
    for (const input of ["$\\frac{a}{b$", "$\\href{javascript:alert(1)}{x}$ ok", "$\\htmlClass{x}{y}$", "\\[\\end{matrix}\\]", "$\\def\\a{\\a}\\a$"]) {
      const el = dom(renderMarkdown(input));
      const src = el.querySelector(".math-source");
      if (input.includes("\\href")) {
        // \href without trust is KaTeX's "unsupported command": inert text, no link.
        expect(el.querySelector("a")).toBeNull();
        continue;
      }
      expect(src, input).not.toBeNull();
      expect(src!.textContent, input).toBe(input.trim());
      expect(src!.getAttribute("title")).toMatch(/could not be shown as math|defines its own commands/);
    }
  });

  it("a 100 KB formula shows as its source without being parsed", () => {
    const huge = `$$${"x+".repeat(50_000)}1$$`;
    expect(huge.length).toBeGreaterThan(MAX_FORMULA);
    const t0 = performance.now();
    const el = dom(renderMarkdown(huge));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(el.querySelector(".katex")).toBeNull();
    expect(el.querySelector(".math-source")?.getAttribute("title")).toMatch(/too long/);
    expect(el.textContent).toContain("x+x+x+");
  });

  it("the KaTeX sanitizer removes what KaTeX never writes", () => {
    const el = dom(
      sanitizeKatex(
        '<span class="katex" style="color:red;background:url(https://evil.example);position:fixed;top:0"><a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><style>body{}</style><math><mi onclick="alert(1)" href="https://x">y</mi></math><svg><use href="https://evil.example/x.svg#a"/><path d="M0 0"/></svg></span>',
      ),
    );
    expectInert(el);
    expect(el.querySelector(".katex")?.getAttribute("style")).toBe("color:red;top:0");
    expect(el.querySelector("path")?.getAttribute("d")).toBe("M0 0");
    expect(el.textContent).toContain("x");
  });

  it.each([
    ["height:1em;vertical-align:-0.25em", "height:1em;vertical-align:-0.25em"],
    ["color:#ff0000", "color:#ff0000"],
    ["background:url(x)", ""],
    ["color:red;behavior:url(x.htc)", "color:red"],
    ["width:expression(alert(1))", ""],
    ["position:absolute;top:0", "top:0"],
    ["margin-right:0.05em;--x:1", "margin-right:0.05em"],
    ["top:0;left:calc(1px)", "top:0"],
    ["color:red\\;background:blue", ""],
  ])("style %s keeps %s", (style, kept) => {
    expect(cleanStyle(style)).toBe(kept);
  });
});

describe("math: what is math and what is not", () => {
  const notMath = [
    "$5 and $10",
    "It costs $3.50, or $4.",
    "between $5-$10 a month",
    "from $100k-$200k",
    "Price: $5,$6",
    "I have $5. You have $6.",
    "US$5 and US$6",
    "echo $PATH and $HOME",
    "cd $HOME/$USER",
    "a $ sign and another $ sign",
    "Costs $ 5 and $ 10",
    "$$$ money $$$",
    "Escaped \\$x\\$ dollars",
    "`$x^2$` is code",
    "```\n$x^2$\n```",
    "```latex\n\\[x\\]\n```",
    "    $x^2$ indented code",
    "$a `b` c$",
    "Use `$HOME` and `$PATH`",
  ];
  it.each(notMath)("%j is not math", (input) => {
    const el = dom(renderMarkdown(input));
    expect(el.querySelector(".katex, .math-source, .math-pending")).toBeNull();
    // The dollars are shown as written.
    expect((el.textContent!.match(/\$/g) ?? []).length).toBe((input.match(/\$/g) ?? []).length);
  });

  const math: Array<[string, number]> = [
    ["$x$", 1],
    ["$x^2 + y^2 = z^2$", 1],
    ["Let $a_1$ and $b_2$ be given", 2],
    ["$\\alpha$-stable", 1],
    ["($x$), $y$.", 2],
    ["\\(x + 1\\)", 1],
    ["where \\[x = 1\\] holds", 1],
    ["inline $$x$$ display", 1],
    ["$$\n\\int_0^1 f(x)\\,dx\n$$", 1],
    ["\\[\n\\sum_{i=1}^n i\n\\]", 1],
    ["costs $5 and $x$ is a variable", 1],
    ["| a | b |\n|---|---|\n| $x$ | $y$ |", 2],
    ["- $x$\n- $y$", 2],
    ["Text before\n$$\nx = 1\n$$\nand after", 1],
    ["$\\text{é} \\le 5$", 1],
  ];
  it.each(math)("%j has %i formulas", (input, n) => {
    const el = dom(renderMarkdown(input));
    expect(el.querySelectorAll(".katex")).toHaveLength(n);
    expectInert(el);
  });

  it("display math is a block of its own; inline math is in the line", () => {
    const el = dom(renderMarkdown("See $x$ here.\n\n$$\ny = 2\n$$"));
    expect(el.querySelector("p .katex")).not.toBeNull();
    expect(el.querySelector(".math-display .katex-display")).not.toBeNull();
  });
});

describe("math: rendered when its block closes, the same while streaming and from history", () => {
  const DOC = "Intro with $a^2$ inline.\n\n$$\n\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}\n$$\n\nThen \\(x\\) and \\[y\\] and a table:\n\n| $p$ | q |\n|---|---|\n| 1 | $r$ |\n\nEnd $z$.";

  it("while a block streams its formulas show as written; finished, they render", () => {
    const streaming = dom(renderMarkdown("Intro with $a^2$ inline and $b", true));
    expect(streaming.querySelector(".katex")).toBeNull();
    expect(streaming.querySelector(".math-pending")?.textContent).toBe("$a^2$");
    expect(streaming.textContent).toContain("$b");
    const final = dom(renderMarkdown("Intro with $a^2$ inline and $b$", false));
    expect(final.querySelectorAll(".katex")).toHaveLength(2);
  });

  it("streamed a few characters at a time, the answer ends as history shows it", () => {
    const r = new BlockRenderer(renderMarkdown);
    for (let i = 1; i < DOC.length; i += 3) r.update(DOC.slice(0, i), false);
    const streamed = dom(r.update(DOC, true).blocks.map((b) => b.html).join(""));
    const history = dom(new BlockRenderer(renderMarkdown).update(DOC, true).blocks.map((b) => b.html).join(""));
    const formulas = (el: HTMLElement) => [...el.querySelectorAll(".katex annotation")].map((a) => a.textContent);
    expect(formulas(history)).toEqual(["a^2", "\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}", "x", "y", "p", "r", "z"]);
    expect(formulas(streamed)).toEqual(formulas(history));
    expect(streamed.querySelector(".math-pending, .math-source")).toBeNull();
    expectInert(streamed);
  });

  it("a display formula with blank lines inside is one block, not cut in two", () => {
    const calls: string[] = [];
    const r = new BlockRenderer((source, streaming) => {
      if (!streaming) calls.push(source);
      return "";
    });
    for (let i = 1; i <= DOC.length; i++) r.update(DOC.slice(0, i), false);
    r.update(DOC, true);
    expect(r.update(DOC, true).blocks.length).toBeGreaterThan(3);
    const block = calls.find((c) => c.startsWith("$$"));
    expect(block).toBe("$$\n\\begin{aligned}\na &= b \\\\\n\nc &= d\n\\end{aligned}\n$$\n\n");
  });

  it("a $$ line never closed stops holding blocks together after a while", () => {
    const text = `$$\n${"line\n\n".repeat(300)}end`;
    const calls: string[] = [];
    const r = new BlockRenderer((source) => {
      calls.push(source);
      return "";
    });
    for (let i = 1; i <= text.length; i += 7) r.update(text.slice(0, i), false);
    r.update(text, true);
    expect(Math.max(...calls.map((c) => c.length))).toBeLessThan(1000);
  });
});
