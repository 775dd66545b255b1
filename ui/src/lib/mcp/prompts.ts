// The `/` commands of the message box: an MCP server's prompts, filtered as you type. Pure
// functions (the menu, with saved prompts and assistants too, is components/prompts/SlashMenu.svelte).
import type { McpPrompt, McpResource } from "../types";

/** What follows the `/` while the box holds a command being typed (one line, from the start). */
export function slashQuery(text: string): string | null {
  if (!text.startsWith("/") || text.includes("\n")) return null;
  const q = text.slice(1);
  return q.includes(" ") ? null : q;
}

/** The prompts matching `query`: by name or title, those that start with it first. */
export function matchPrompts(prompts: McpPrompt[], query: string, limit = 12): McpPrompt[] {
  const q = query.toLowerCase();
  const scored: [number, McpPrompt][] = [];
  for (const p of prompts) {
    const names = [p.name, p.title ?? "", `${p.server}/${p.name}`].map((s) => s.toLowerCase());
    const score = names.some((n) => n.startsWith(q)) ? 0 : names.some((n) => n.includes(q)) ? 1 : -1;
    if (score >= 0) scored.push([score, p]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].name.localeCompare(b[1].name));
  return scored.slice(0, limit).map(([, p]) => p);
}

/** The arguments still missing: the required ones left empty. */
export function missingArgs(p: McpPrompt, values: Record<string, string>): string[] {
  return p.arguments.filter((a) => a.required && !(values[a.name] ?? "").trim()).map((a) => a.name);
}

/** The `@word` being typed at the end of the box (a resource to attach), or null. */
export function atQuery(text: string): string | null {
  const m = /(^|\s)@([^\s@]*)$/.exec(text);
  return m ? (m[2] ?? "") : null;
}

/** The box without the `@word` being typed at its end. */
export function withoutAt(text: string): string {
  return text.replace(/(^|\s)@[^\s@]*$/, "$1");
}

/** The resources matching `query`: by name, title or address, those that start with it first. */
export function matchResources(list: McpResource[], query: string, limit = 12): McpResource[] {
  const q = query.toLowerCase();
  const scored: [number, McpResource][] = [];
  for (const r of list) {
    const names = [r.name, r.title ?? "", r.uri].map((s) => s.toLowerCase());
    const score = names.some((n) => n.startsWith(q)) ? 0 : names.some((n) => n.includes(q)) ? 1 : -1;
    if (score >= 0) scored.push([score, r]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].name.localeCompare(b[1].name));
  return scored.slice(0, limit).map(([, r]) => r);
}
