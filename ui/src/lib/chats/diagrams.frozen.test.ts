// The window freezes Object.prototype (tauri.conf.json `freezePrototype`). This file freezes it
// too (Vitest runs each test file in a process of its own), and checks that the build step in
// vite-frozen-prototype.ts lets the diagram library and its dependencies work there.
import { beforeAll, describe, expect, it } from "vitest";
import { rewriteFrozenAssignments } from "../../../vite-frozen-prototype";

beforeAll(() => {
  const proto = SVGElement.prototype as unknown as Record<string, unknown>;
  proto.getBBox = () => ({ x: 0, y: 0, width: 60, height: 20 });
  proto.getComputedTextLength = () => 60;
  Object.freeze(Object.prototype);
});

/** Runs `body` as a strict function, rewritten or not. */
function run(body: string, rewrite: boolean): unknown {
  const code = `"use strict";\n${body}`;
  const out = rewrite ? (rewriteFrozenAssignments(code)?.code ?? code) : code;
  return new Function(out)();
}

describe("with Object.prototype frozen, as in the window", () => {
  const cases: Array<[string, string, unknown, boolean]> = [
    ["a method on a prototype", 'function F() {}\nF.prototype.toString = function () { return "f"; };\nreturn String(new F());', "f", true],
    ["valueOf by a computed key", 'var o = {}; var k = "valueOf"; o[k] = function () { return 5; }; return +o;', 5, true],
    ["a literal key", 'var o = {}; o["toString"] = function () { return "s"; }; return String(o);', "s", true],
    ["Object.assign", 'var p = Object.assign({}, { toString: function () { return "x"; } }, null); return String(p);', "x", true],
    ["Object.assign by reference", 'var extend = Object.assign.bind(Object); var p = extend({}, { valueOf: function () { return 7; } }); return +p;', 7, true],
    ["a parenthesized right side", "var a = []; var i = 0; a[i] = (1, 2); return a[0];", 2, false],
    ["chained assignments", 'var a = {}, b = {}; var k = "constructor"; a[k] = b[k] = 3; return [a.constructor, b.constructor].join();', "3,3", true],
    ["an ordinary property", "var o = { x: 1 }; var k = 'x'; o[k] = 3; o.y = 4; return o.x + o.y;", 7, false],
    ["a setter still runs", "var seen = 0; var o = { set x(v) { seen = v; } }; var k = 'x'; o[k] = 9; return seen;", 9, false],
    ["an array grows", "var a = []; for (var i = 0; i < 3; i++) a[i] = i * 2; return a.length + ':' + a.join();", "3:0,2,4", false],
  ];
  it.each(cases)("%s", (_name, body, value, throwsUnrewritten) => {
    expect(run(body, true)).toEqual(value);
    if (throwsUnrewritten) expect(() => run(body, false)).toThrow(TypeError);
    else expect(run(body, false)).toEqual(value);
  });

  it("mermaid draws the kinds of diagram answers use", async () => {
    const { drawDiagram } = await import("./diagramDraw");
    for (const code of [
      "graph TD\nA[Question] --> B{Known?}\nB -->|yes| C[Answer]",
      "sequenceDiagram\nAlice->>Bob: Hi",
      "classDiagram\nclass Animal\nAnimal <|-- Duck",
      "stateDiagram-v2\n[*] --> A\nA --> [*]",
      "erDiagram\nCUSTOMER ||--o{ ORDER : places",
      'pie\n"a": 1\n"b": 2',
      "gantt\ndateFormat YYYY-MM-DD\nsection S\nTask :a1, 2024-01-01, 3d",
    ]) {
      const svg = await drawDiagram(code, "light");
      expect(svg, code).toMatch(/^<svg/);
    }
  }, 60_000);
});
