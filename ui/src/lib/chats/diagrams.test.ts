import { afterEach, beforeAll, describe, expect, it } from "vitest";
import mermaid from "mermaid";
import { diagramsSettled, drawDiagrams, MAX_DIAGRAM, setDraw } from "./diagrams";
import { drawDiagram, sanitizeSvg, scopedCss, withoutDirectives } from "./diagramDraw";
import { renderMarkdown } from "./markdown";

// jsdom lays nothing out: mermaid measures its labels with these.
beforeAll(() => {
  const proto = SVGElement.prototype as unknown as Record<string, unknown>;
  proto.getBBox = () => ({ x: 0, y: 0, width: 60, height: 20 });
  proto.getComputedTextLength = () => 60;
});

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

/** Nothing in the picture runs, loads, navigates, or styles anything outside it. */
function expectInertSvg(svg: string) {
  const el = dom(svg);
  expect(el.querySelectorAll("script, foreignObject, foreignobject, a, image, use, iframe, animate, set, img, object, embed, link")).toHaveLength(0);
  const picture = el.querySelector("svg");
  expect(picture).not.toBeNull();
  const id = picture!.getAttribute("id") ?? "";
  for (const node of el.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      expect(attr.name.startsWith("on"), `${node.tagName} ${attr.name}`).toBe(false);
      expect(["href", "xlink:href", "src", "action", "formaction"]).not.toContain(attr.name);
      if (attr.name !== "xmlns" && attr.name !== "style") expect(attr.value, `${node.tagName} ${attr.name}`).not.toMatch(/^\s*[a-z][a-z0-9+.-]*:/i);
      expect(attr.value).not.toMatch(/url\(\s*['"]?(?!#)|@import|javascript:/i);
    }
  }
  for (const style of el.querySelectorAll("style")) expect(scopedCss(style.textContent ?? "", id)).toBe(true);
  expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
}

const edges = (n: number) => `graph TD\n${Array.from({ length: n }, (_, i) => `A${i}-->A${i + 1}`).join("\n")}`;

describe("mermaid: hostile diagrams draw inert or stay code", () => {
  const hostile: Array<[string, string]> = [
    ["click callback", 'graph TD\nA-->B\nclick A callback "Tooltip"'],
    ["click call", "graph TD\nA-->B\nclick A call alert(1)"],
    ["click href javascript", 'graph TD\nA-->B\nclick A href "javascript:window.__pwned=1"'],
    ["click link", 'graph TD\nA-->B\nclick B "https://evil.example" _blank'],
    ["img label", 'graph TD\nA["<img src=x onerror=window.__pwned=1>"]-->B'],
    ["script label", 'graph TD\nA["<script>window.__pwned=1</script>"]-->B'],
    ["markdown label link", 'graph TD\nA["`[x](javascript:alert(1))`"]-->B'],
    ["init loose", '%%{init: {"securityLevel": "loose", "htmlLabels": true, "flowchart": {"htmlLabels": true}}}%%\ngraph TD\nA["<b onmouseover=window.__pwned=1>x</b>"]-->B'],
    ["init split over lines", '%%{\n  init: {\n "securityLevel": "loose" }\n}%%\ngraph TD\nA-->B\nclick A call alert(1)'],
    ["init themeCSS", '%%{init: {"themeCSS": "} body { display: none } #x {"}}%%\ngraph TD\nA-->B'],
    ["init dompurifyConfig", '%%{init: {"dompurifyConfig": {"ADD_TAGS": ["script"]}}}%%\ngraph TD\nA["<script>window.__pwned=1</script>"]-->B'],
    ["front matter config", '---\nconfig:\n  securityLevel: loose\n  htmlLabels: true\n  themeCSS: "body{display:none}"\n---\ngraph TD\nA["<img src=x onerror=window.__pwned=1>"]-->B'],
    ["classDef url", "graph TD\nA-->B\nclassDef evil fill:url(https://evil.example/x.png),stroke:#f00;\nclass A evil"],
    ["classDef breakout", "graph TD\nA-->B\nclassDef x color:red} body{display:none} .y{color:blue\nclass A x"],
    ["style url", "graph TD\nA-->B\nstyle A fill:#f9f,background:url(javascript:alert(1))"],
    ["linkStyle import", "graph TD\nA-->B\nlinkStyle 0 stroke:red;@import url(https://evil.example/x.css)"],
    ["sequence links", 'sequenceDiagram\nparticipant A\nlink A: Evil @ javascript:window.__pwned=1\nlinks A: {"x": "https://evil.example"}\nA->>A: hi'],
    ["class diagram link", 'classDiagram\nclass A\nlink A "javascript:window.__pwned=1" "tip"\ncallback A "f"'],
    ["gantt click", 'gantt\ndateFormat YYYY-MM-DD\nsection S\nTask :a1, 2024-01-01, 3d\nclick a1 href "javascript:window.__pwned=1"'],
    ["state note html", 'stateDiagram-v2\nA --> B\nnote right of A : <img src=x onerror=window.__pwned=1>'],
    ["too many edges", edges(600)],
    ["not a diagram", "this is not mermaid <script>window.__pwned=1</script>"],
  ];

  it.each(hostile)("%s", async (_name, code) => {
    let svg: string | null = null;
    try {
      svg = await drawDiagram(code, "light");
    } catch (err) {
      // Refused: the block stays code.
      expect(err).toBeInstanceOf(Error);
    }
    if (svg !== null) expectInertSvg(svg);
    // Nothing the diagram said changed the settings.
    expect(mermaid.mermaidAPI.getConfig().securityLevel).toBe("strict");
    expect(mermaid.mermaidAPI.getConfig().htmlLabels).toBe(false);
    expect(document.body.querySelector("script, foreignObject")).toBeNull();
  }, 20_000);

  it("ordinary diagrams draw, with their styles scoped to the picture", async () => {
    for (const code of ["graph TD\nA[Start] --> B{Ok?}\nB -->|yes| C[Done]", "sequenceDiagram\nAlice->>Bob: Hi\nBob-->>Alice: Hello", "pie\n\"a\": 1\n\"b\": 2"]) {
      const svg = await drawDiagram(code, "dark");
      expectInertSvg(svg);
      const el = dom(svg);
      expect(el.querySelectorAll("style").length, code).toBe(1);
      expect(el.textContent).toMatch(/Start|Alice|a/);
    }
  }, 20_000);

  it("directives are taken out before drawing", () => {
    expect(withoutDirectives('%%{init: {"theme": "forest"}}%%\ngraph TD\n%%{ wrap }%%\nA-->B')).toBe("\ngraph TD\n\nA-->B");
  });
});

describe("mermaid: the SVG sanitizer", () => {
  const hostile: Array<[string, string]> = [
    ["script", '<svg id="d"><script>window.__pwned=1</script><g/></svg>'],
    ["onload", '<svg id="d" onload="window.__pwned=1"><g onclick="window.__pwned=1"/></svg>'],
    ["foreignObject", '<svg id="d"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src=x onerror=window.__pwned=1></div></foreignObject></svg>'],
    ["link", '<svg id="d"><a href="javascript:window.__pwned=1"><text>x</text></a></svg>'],
    ["xlink", '<svg id="d"><a xlink:href="https://evil.example"><text>x</text></a></svg>'],
    ["image", '<svg id="d"><image href="https://evil.example/pixel.png"/></svg>'],
    ["use", '<svg id="d"><use href="https://evil.example/x.svg#a"/></svg>'],
    ["animate href", '<svg id="d"><a><animate attributeName="href" to="javascript:window.__pwned=1"/><text>x</text></a></svg>'],
    ["set", '<svg id="d"><set attributeName="onmouseover" to="window.__pwned=1"/></svg>'],
    ["global style", '<svg id="d"><style>body{display:none}</style></svg>'],
    ["other id style", '<svg id="d"><style>#d{fill:red} #app{display:none}</style></svg>'],
    ["id prefix style", '<svg id="d"><style>#dx{display:none}</style></svg>'],
    ["style url", '<svg id="d"><style>#d .x{fill:url(https://evil.example/x)}</style></svg>'],
    ["style import", '<svg id="d"><style>@import "https://evil.example/x.css"; #d{}</style></svg>'],
    ["style font-face", '<svg id="d"><style>@font-face{font-family:x;src:url(https://evil.example/x.woff)}</style></svg>'],
    ["style media", '<svg id="d"><style>@media all{body{display:none}}</style></svg>'],
    ["style escape", '<svg id="d"><style>#d{} \\62 ody{display:none}</style></svg>'],
    ["style in string", '<svg id="d"><style>#d{content:"}"} body{display:none}</style></svg>'],
    ["attr url", '<svg id="d"><rect fill="url(https://evil.example/x)" style="fill:url(https://evil.example/y)"/></svg>'],
    ["data url", '<svg id="d"><rect fill="url(data:image/svg+xml,x)"/></svg>'],
    ["iframe", '<svg id="d"><iframe src="https://evil.example"></iframe></svg>'],
  ];
  it.each(hostile)("%s", (_name, svg) => {
    const clean = sanitizeSvg(svg);
    expect(clean).not.toBe("");
    expectInertSvg(clean);
  });

  it("keeps what a picture needs: shapes, markers, local references, its own styles", () => {
    const svg = '<svg id="d" viewBox="0 0 10 10"><style>#d .n{fill:#eee}@keyframes dash{to{stroke-dashoffset:0}}</style><defs><marker id="d_m"><path d="M0 0L10 5z"/></marker></defs><path d="M1 1L9 9" marker-end="url(#d_m)" style="stroke:#333"/><text x="1" y="2">Hi</text></svg>';
    const el = dom(sanitizeSvg(svg));
    expect(el.querySelector("style")?.textContent).toContain("#d .n");
    expect(el.querySelector("path[marker-end]")?.getAttribute("marker-end")).toBe("url(#d_m)");
    expect(el.querySelector("svg")?.getAttribute("viewBox")).toBe("0 0 10 10");
    expect(el.textContent).toContain("Hi");
  });

  it("a linked node keeps its place as a plain group, without its link", () => {
    const el = dom(sanitizeSvg('<svg id="d"><a href="javascript:window.__pwned=1" xlink:href="https://evil.example" target="_blank" transform="translate(5,6)" class="node"><text>x</text></a><animate attributeName="x"/></svg>'));
    const g = el.querySelector("g.node");
    expect(g?.getAttribute("transform")).toBe("translate(5,6)");
    expect(g?.hasAttribute("href") || g?.hasAttribute("xlink:href") || g?.hasAttribute("target")).toBe(false);
    expect(g?.textContent).toBe("x");
    expectInertSvg(el.innerHTML);
  });

  it("more than one picture, or none, is refused", () => {
    expect(sanitizeSvg('<svg id="a"></svg><svg id="b"></svg>')).toBe("");
    expect(sanitizeSvg("<div>no</div>")).toBe("");
    expect(sanitizeSvg("")).toBe("");
  });

  it.each([
    ["#d{fill:red}", true],
    ["#d .a,#d .b{fill:red}", true],
    ["@keyframes dash{from{x:0}to{x:1}}#d{}", true],
    ["#d [data-look=\"neo\"].node{stroke:#9370DB}", true],
    ["#d{font-family:'a b',sans-serif}", true],
    ["body{}", false],
    ["#d, body{}", false],
    ["#d{} }body{", false],
    ["#d{fill:url(http://x)}", false],
    ["#d{fill:url(#m)}", true],
    ["#d{", false],
    ["@media print{#d{}}", false],
    ["#d{}\n:root{--x:1}", false],
  ])("scopedCss %j → %s", (css, ok) => {
    expect(scopedCss(css, "d")).toBe(ok);
  });
});

describe("mermaid: in the transcript", () => {
  afterEach(() => {
    setDraw(null);
    document.body.innerHTML = "";
  });

  function mount(md: string, streaming = false): HTMLElement {
    const el = dom(renderMarkdown(md, streaming));
    document.body.appendChild(el);
    return el;
  }

  it("a finished block is drawn above its code, which stays for copying", async () => {
    setDraw(drawDiagram);
    const el = mount("Look:\n\n```mermaid\ngraph TD\nA[Start]-->B[End]\n```\n");
    const block = el.querySelector<HTMLElement>(".code-block.mermaid")!;
    expect(block.querySelector("pre code")?.textContent).toContain("A[Start]");
    drawDiagrams(el);
    expect(block.dataset.diagram).toBe("pending");
    await diagramsSettled();
    expect(block.dataset.diagram).toBe("drawn");
    expect(block.querySelector(".diagram svg")).not.toBeNull();
    expect(block.querySelector("pre code")?.textContent).toContain("A[Start]");
    expectInertSvg(block.querySelector(".diagram")!.innerHTML);
    // Mounted again (a row scrolled back into view): drawn at once, from what was kept.
    const again = mount("Look:\n\n```mermaid\ngraph TD\nA[Start]-->B[End]\n```\n");
    drawDiagrams(again);
    expect(again.querySelector<HTMLElement>(".code-block.mermaid")!.dataset.diagram).toBe("drawn");
  }, 20_000);

  it("a theme change draws the diagrams on screen again in its colours", async () => {
    const themes: string[] = [];
    setDraw(async (_code, theme) => {
      themes.push(theme);
      return `<svg id="t-${theme}"></svg>`;
    });
    const el = mount("```mermaid\ngraph TD\nA-->B\n```");
    drawDiagrams(el);
    await diagramsSettled();
    expect(el.querySelector(".diagram")?.getAttribute("data-theme")).toBe("light");
    document.documentElement.dataset.theme = "dark";
    await new Promise((r) => setTimeout(r, 0));
    await diagramsSettled();
    delete document.documentElement.dataset.theme;
    expect(themes).toEqual(["light", "dark"]);
    expect(el.querySelectorAll(".diagram")).toHaveLength(1);
    expect(el.querySelector(".diagram")?.getAttribute("data-theme")).toBe("dark");
    expect(el.querySelector(".diagram svg")?.id).toBe("t-dark");
  });

  it("a diagram that fails stays code, with a note saying why", async () => {
    setDraw(drawDiagram);
    const el = mount("```mermaid\nnot a diagram at all\n```");
    drawDiagrams(el);
    await diagramsSettled();
    const block = el.querySelector<HTMLElement>(".code-block.mermaid")!;
    expect(block.dataset.diagram).toBe("failed");
    expect(block.querySelector(".diagram")).toBeNull();
    expect(block.querySelector(".diagram-note")?.getAttribute("title")).toMatch(/could not be drawn/);
  }, 20_000);

  it("a block still being written, an empty one and a huge one are code, never drawn", async () => {
    const drawn: string[] = [];
    setDraw(async (code) => {
      drawn.push(code);
      return "<svg></svg>";
    });
    const streaming = mount("```mermaid\ngraph TD\nA-->B\n", true);
    const empty = mount("```mermaid\n\n```");
    const huge = mount(`\`\`\`mermaid\ngraph TD\n${"A-->B\n".repeat(MAX_DIAGRAM / 6 + 1)}\`\`\``);
    const other = mount("```python\nprint(1)\n```");
    for (const el of [streaming, empty, huge, other]) {
      expect(el.querySelector(".code-block")).not.toBeNull();
      expect(el.querySelector(".mermaid")).toBeNull();
      drawDiagrams(el);
    }
    await diagramsSettled();
    expect(drawn).toEqual([]);
  });

  it("diagrams are drawn one at a time, and not at all once their row is gone", async () => {
    let running = 0;
    let most = 0;
    const drawn: string[] = [];
    setDraw(async (code) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      drawn.push(code.trim());
      return '<svg id="x"></svg>';
    });
    const el = mount(["a", "b", "c"].map((n) => `\`\`\`mermaid\ngraph TD\n${n}\n\`\`\``).join("\n\n"));
    const gone = mount("```mermaid\ngraph TD\ngone\n```");
    drawDiagrams(el);
    drawDiagrams(gone);
    gone.remove();
    await diagramsSettled();
    expect(most).toBe(1);
    expect(drawn).toEqual(["graph TD\na", "graph TD\nb", "graph TD\nc"]);
  });
});
