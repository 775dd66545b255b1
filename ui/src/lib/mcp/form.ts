// The add-a-server form's arithmetic: rows of names and values into the input the core checks,
// arguments one per line, and how a server's transport reads in the list.
import type { McpServer, McpServerInput } from "../types";

export interface Row {
  name: string;
  value: string;
}

export interface Draft {
  name: string;
  kind: "local" | "remote";
  program: string;
  /** One argument per line (spaces inside a line stay: no shell splits them). */
  args: string;
  url: string;
  env: Row[];
  headers: Row[];
}

export function emptyDraft(): Draft {
  return { name: "", kind: "local", program: "", args: "", url: "", env: [], headers: [] };
}

/** Rows with a name (an empty row is dropped; a value may be empty). */
function named(rows: Row[]): { name: string; value: string }[] {
  return rows.filter((r) => r.name.trim() !== "").map((r) => ({ name: r.name.trim(), value: r.value }));
}

/** The input for `add_mcp_server`; the core checks every field and says what is wrong. */
export function inputOf(d: Draft): McpServerInput {
  const transport =
    d.kind === "local"
      ? { kind: "stdio" as const, command: d.program.trim(), args: d.args.split("\n").map((a) => a.replace(/\r$/, "")).filter((a) => a !== "") }
      : { kind: "http" as const, url: d.url.trim() };
  return {
    name: d.name.trim(),
    transport,
    env: d.kind === "local" ? named(d.env) : [],
    headers: d.kind === "remote" ? named(d.headers) : [],
    enabled: true,
  };
}

/** How a server is reached, in one line. */
export function whereOf(s: McpServer): string {
  return s.transport.kind === "stdio" ? [s.transport.command, ...s.transport.args].join(" ") : s.transport.url;
}
