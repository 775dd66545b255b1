// The window runs with Object.prototype frozen (tauri.conf.json `freezePrototype`: a defence
// against prototype pollution). In strict code an assignment such as `Foo.prototype.valueOf = f`
// then throws when Foo.prototype has no own `valueOf` yet: the inherited one is read-only (the
// "override mistake"). The diagram library's dependencies do this (dayjs and d3 while they load,
// lodash and cytoscape copying methods with `o[k] = v` and `Object.assign`), so the library
// would never work in the window. This build step rewrites, in those dependencies only, every
// assignment that could hit such a name (and `Object.assign`) into a helper that assigns as
// usual, except that a frozen name the object does not have yet is defined on the object
// itself — what the assignment means there. The prototype stays frozen.
import { parse, type Node } from "acorn";
import MagicString from "magic-string";
import type { Plugin } from "vite";

/** The properties of Object.prototype that a frozen prototype makes read-only. */
const FROZEN = ["toString", "valueOf", "toLocaleString", "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"];
const SET = "__parleySet";
const ASSIGN = "__parleyAssign";
/**
 * `o[k] = v`, except that a frozen name `o` does not have yet is defined on `o` (where the
 * assignment would throw); `Object.assign` the same way.
 */
const HELPERS = `var __parleyFrozen = ${JSON.stringify(FROZEN)};
function ${SET}(o, k, v) {
  if (typeof k === "string" && __parleyFrozen.indexOf(k) >= 0 && o !== null && (typeof o === "object" || typeof o === "function") && !Object.prototype.hasOwnProperty.call(o, k)) {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    o[k] = v;
  }
  return v;
}
function ${ASSIGN}(target) {
  for (var i = 1; i < arguments.length; i++) {
    var source = arguments[i];
    if (source == null) continue;
    var keys = Object.keys(source);
    for (var j = 0; j < keys.length; j++) ${SET}(target, keys[j], source[keys[j]]);
    var symbols = Object.getOwnPropertySymbols(source);
    for (var j = 0; j < symbols.length; j++) if (Object.prototype.propertyIsEnumerable.call(source, symbols[j])) target[symbols[j]] = source[symbols[j]];
  }
  return target;
}
`;

type Assign = Node & { type: "AssignmentExpression"; operator: string; left: Node; right: Node };
type Member = Node & { type: "MemberExpression"; object: Node; property: Node & { name?: string; value?: unknown }; computed: boolean };

/** How an assignment's target is rewritten: its key's source text, or null to leave it. */
function keyOf(left: Node, code: string): string | null {
  if (left.type !== "MemberExpression") return null;
  const m = left as Member;
  if (m.object.type === "Super" || m.property.type === "PrivateIdentifier") return null;
  if (!m.computed) return typeof m.property.name === "string" && FROZEN.includes(m.property.name) ? JSON.stringify(m.property.name) : null;
  // A literal key other than a frozen name cannot hit one; anything computed might.
  if (m.property.type === "Literal") return typeof m.property.value === "string" && FROZEN.includes(m.property.value) ? JSON.stringify(m.property.value) : null;
  return code.slice(m.property.start, m.property.end);
}

/** Whether `node` is the expression `Object.assign`. */
function isObjectAssign(node: Node): boolean {
  const m = node as Member;
  return node.type === "MemberExpression" && !m.computed && m.object.type === "Identifier" && (m.object as Node & { name: string }).name === "Object" && m.property.name === "assign";
}

function visit(node: unknown, found: Node[]) {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const child of node) visit(child, found);
    return;
  }
  const n = node as Node & Record<string, unknown>;
  if (typeof n.type !== "string") return;
  const a = n as unknown as Assign;
  if ((a.type === "AssignmentExpression" && a.operator === "=" && a.left.type === "MemberExpression") || isObjectAssign(n)) found.push(n);
  for (const key of Object.keys(n)) if (key !== "type" && key !== "start" && key !== "end") visit(n[key], found);
}

function parseAny(code: string): Node {
  try {
    return parse(code, { ecmaVersion: "latest", sourceType: "module" });
  } catch {
    return parse(code, { ecmaVersion: "latest", sourceType: "script", allowReturnOutsideFunction: true });
  }
}

/** `code` with assignments that could hit a frozen name made safe; null when there is none. */
export function rewriteFrozenAssignments(code: string): { code: string; map: ReturnType<MagicString["generateMap"]> } | null {
  if (!/=|Object\.assign/.test(code)) return null;
  const found: Node[] = [];
  visit(parseAny(code), found);
  const s = new MagicString(code);
  let changed = false;
  for (const n of found) {
    if (n.type !== "AssignmentExpression") {
      s.overwrite(n.start, n.end, ASSIGN);
      changed = true;
      continue;
    }
    const a = n as Assign;
    const key = keyOf(a.left, code);
    if (key === null) continue;
    const m = a.left as Member;
    // The target's object and key are copied as text: an edit inside them would be lost.
    if (found.some((o) => o !== n && o.start >= m.start && o.end <= m.end)) continue;
    // Up to the `=` (the right side may start with a parenthesis its node does not include).
    const eq = code.indexOf("=", m.end);
    if (eq < 0 || eq >= a.right.start) continue;
    s.overwrite(a.start, eq + 1, `${SET}(${code.slice(m.object.start, m.object.end)}, ${key}, `);
    s.appendLeft(a.end, ")");
    changed = true;
  }
  if (!changed) return null;
  // After a hashbang line, which must stay first.
  const bang = /^#![^\n]*\n/.exec(code);
  if (bang) s.appendLeft(bang[0].length, HELPERS);
  else s.prepend(HELPERS);
  return { code: s.toString(), map: s.generateMap({ hires: true }) };
}

/** The packages the window loaded before the diagram library: they run as they are. */
const UNTOUCHED = /[\\/]node_modules[\\/](?:svelte|@tauri-apps|marked|dompurify|highlight\.js|katex|remend)[\\/]/;

export function frozenPrototype(): Plugin {
  return {
    name: "parley-frozen-prototype",
    transform(code, id) {
      if (!/[\\/]node_modules[\\/]/.test(id) || UNTOUCHED.test(id) || !/\.[cm]?js(?:\?|$)/.test(id)) return null;
      const out = rewriteFrozenAssignments(code);
      if (out) {
        try {
          parseAny(out.code);
        } catch (err) {
          this.error(`the frozen-prototype rewrite broke ${id}: ${String(err)}`);
        }
      }
      return out;
    },
  };
}
