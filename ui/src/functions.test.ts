// Functions a newcomer can read: no hand-written function in the UI is longer than 80 lines
// (the Rust side has clippy's too_many_lines at the same limit, clippy.toml). Every .ts file
// under src/ (tests and the generated bindings aside) and the <script> blocks of every
// .svelte file are parsed with TypeScript; each function — declared, expressed, arrow,
// method, accessor, constructor — is measured from its first line to its last.
import ts from "typescript";
import { describe, expect, it } from "vitest";

/** The most lines a function may span. */
const LIMIT = 80;

/** A function longer than the limit: where it starts, its name when it has one, its lines. */
type Long = { at: string; name: string; lines: number };

/** The <script> blocks of a Svelte file, each with the line of the file it starts on (1-based). */
export function scriptBlocks(svelte: string): { code: string; line: number }[] {
  const blocks: { code: string; line: number }[] = [];
  const open = /<script\b[^>]*>/g;
  for (let m = open.exec(svelte); m; m = open.exec(svelte)) {
    const start = m.index + m[0].length;
    const end = svelte.indexOf("</script>", start);
    if (end < 0) break;
    const line = svelte.slice(0, start).split("\n").length;
    blocks.push({ code: svelte.slice(start, end), line });
    open.lastIndex = end;
  }
  return blocks;
}

function nameOf(node: ts.Node, file: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(file);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  // `const f = () => …`, `f: function () …`: the name it is given.
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText(file);
  return "(anonymous)";
}

/** The functions in `code` longer than `limit` lines; `firstLine` is where `code` starts in its file. */
export function longFunctions(code: string, path: string, limit = LIMIT, firstLine = 1): Long[] {
  const file = ts.createSourceFile(path, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Long[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > limit) found.push({ at: `${path}:${start + firstLine}`, name: nameOf(node, file), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The long functions of one source file of the UI, .ts or .svelte. */
export function longFunctionsIn(path: string, text: string, limit = LIMIT): Long[] {
  if (!path.endsWith(".svelte")) return longFunctions(text, path, limit);
  return scriptBlocks(text).flatMap((b) => longFunctions(b.code, path, limit, b.line));
}

/** The UI's hand-written sources: not the tests, not the bindings generated from the Rust types. */
const sources = {
  ...import.meta.glob<string>("./**/*.ts", { query: "?raw", import: "default", eager: true }),
  ...import.meta.glob<string>("./**/*.svelte", { query: "?raw", import: "default", eager: true }),
};
const handWritten = Object.entries(sources).filter(([p]) => !p.endsWith(".test.ts") && !p.endsWith(".d.ts") && p !== "./bindings.ts");

/** A function of `body` lines, written the ways the UI writes them. */
const fn = (head: string, body: number, tail = "}") => `${head}\n${"  x++;\n".repeat(body)}${tail}\n`;

describe("function length", () => {
  it(`no hand-written function in ui/src is over ${LIMIT} lines`, () => {
    // The files are read as they are written (not compiled): the components too.
    expect(handWritten.filter(([p, text]) => p.endsWith(".svelte") && text.includes("<script")).length).toBeGreaterThan(20);
    expect(handWritten.filter(([p]) => p.endsWith(".ts")).length).toBeGreaterThan(20);
    const long = handWritten.flatMap(([path, text]) => longFunctionsIn(path.slice(2), text));
    expect(long.map((l) => `${l.at} ${l.name}: ${l.lines} lines`)).toEqual([]);
  });

  it("finds every kind of function over the limit, where it starts, and only those", () => {
    const kinds = [
      fn("function declared() {", LIMIT - 1),
      fn("export async function exported() {", LIMIT - 1),
      fn("const arrow = () => {", LIMIT - 1, "};"),
      fn("const expressed = function () {", LIMIT - 1, "};"),
      fn("const o = { method() {", LIMIT - 1, "} };"),
      fn("class C { get value() {", LIMIT - 1, "} }"),
      fn("class D { constructor() {", LIMIT - 1, "} }"),
      fn("items.forEach((i) => {", LIMIT - 1, "});"),
    ];
    for (const code of kinds) {
      // The head and the tail are lines of the function too: LIMIT + 1 lines in all.
      expect(longFunctions(code, "x.ts").map((l) => l.at), code.split("\n")[0]).toEqual(["x.ts:1"]);
      // One line less is within the limit.
      expect(longFunctions(code.replace("  x++;\n", ""), "x.ts"), code.split("\n")[0]).toEqual([]);
    }
    expect(longFunctions(fn("const named = () => {", LIMIT), "x.ts")[0]?.name).toBe("named");
    expect(longFunctions(fn("function inner() {", LIMIT), "x.ts")[0]?.name).toBe("inner");
  });

  it("an inner function over the limit is found inside a short-enough outer one's file", () => {
    const code = `function outer() {\n  ${fn("const inner = () => {", LIMIT, "};")}}\n`;
    expect(longFunctions(code, "x.ts").map((l) => l.name)).toEqual(["outer", "inner"]);
  });

  it("reads a Svelte file's script blocks and reports lines of the file", () => {
    const svelte = [
      `<script lang="ts" module>\n  export const a = 1;\n</script>`,
      `<script lang="ts">\n  let b = 2;\n${fn("  function long() {", LIMIT)}</script>`,
      `<div onclick={() => {}}>markup is not a script</div>`,
      `<style>\n  .x { color: red; }\n</style>`,
    ].join("\n");
    const blocks = scriptBlocks(svelte);
    expect(blocks.map((b) => b.line)).toEqual([1, 4]);
    expect(longFunctionsIn("C.svelte", svelte)).toEqual([{ at: "C.svelte:6", name: "long", lines: LIMIT + 2 }]);
    expect(longFunctionsIn("C.svelte", "<div>no script</div>")).toEqual([]);
  });
});
