// The composer's `/` menu: saved prompts, assistants and the chat's MCP servers' prompts in one
// list, filtered as you type. Pure (the menu is components/prompts/SlashMenu.svelte).
import type { Assistant, McpPrompt, Prompt } from "../types";
import { matchPrompts } from "../mcp/prompts";

export type SlashItem =
  | { kind: "prompt"; key: string; name: string; desc: string; prompt: Prompt }
  | { kind: "assistant"; key: string; name: string; desc: string; assistant: Assistant }
  | { kind: "mcp"; key: string; name: string; desc: string; mcp: McpPrompt };

/** 0 when one of `names` starts with `q`, 1 when one holds it, -1 otherwise. */
function score(names: string[], q: string): number {
  const low = names.map((n) => n.toLowerCase());
  return low.some((n) => n.startsWith(q)) ? 0 : low.some((n) => n.includes(q)) ? 1 : -1;
}

/** The items matching `query`, at most `limit`: those whose name starts with it first, then
 * those that hold it; at each, saved prompts, then MCP prompts, then assistants, by name. */
export function slashItems(prompts: Prompt[], assistants: Assistant[], mcp: McpPrompt[], query: string, limit = 12): SlashItem[] {
  const q = query.toLowerCase();
  const dashed = (n: string) => [n, n.replace(/\s+/g, "-")];
  const all: [number, number, SlashItem][] = [];
  for (const p of prompts) {
    all.push([score(dashed(p.name), q), 0, { kind: "prompt", key: `p:${p.id}`, name: p.name, desc: firstLine(p.body), prompt: p }]);
  }
  for (const m of matchPrompts(mcp, query, mcp.length)) {
    const s = score([m.name, m.title ?? ""], q);
    all.push([s < 0 ? 1 : s, 1, { kind: "mcp", key: `m:${m.server}/${m.name}`, name: m.name, desc: m.title ?? m.description, mcp: m }]);
  }
  // An assistant is applied at once when taken: offered only when its name starts with what was
  // typed, so that Enter after `/e` never switches the chat's assistant by surprise.
  for (const a of assistants) {
    const s = score(dashed(a.name), q);
    all.push([s === 0 ? 0 : -1, 2, { kind: "assistant", key: `a:${a.id}`, name: a.name, desc: "Use this assistant in this chat", assistant: a }]);
  }
  return all
    .filter(([s]) => s >= 0)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2].name.localeCompare(b[2].name))
    .slice(0, limit)
    .map(([, , item]) => item);
}

/** The first line of a text, short. */
export function firstLine(s: string, max = 80): string {
  const line = s.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The variables left empty (`values` keyed `v:NAME`). */
export function emptyVariables(p: Prompt, values: Record<string, string>): string[] {
  return p.variables.filter((v) => !(Object.hasOwn(values, `v:${v}`) ? values[`v:${v}`]! : "").length);
}

/** `values` keyed `v:NAME` as name → value. */
export function plain(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(values)) if (k.startsWith("v:")) out[k.slice(2)] = v;
  return out;
}
