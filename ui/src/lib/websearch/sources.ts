// The sources of an answer: the results of its web_search calls, read back from the text the
// core wrote for the model (`websearch/backends.rs::for_model`: "[n] title", then the address
// on its own line). The core made each title and snippet one line, so a result cannot forge
// another; only http(s) addresses are shown, and links open through the transcript's
// checked-link dialog like any link in an answer.
import type { Part } from "../types";

export type Source = { title: string; url: string; host: string };

const ENTRY = /^\[(\d+)\] (.*)\n(https?:\/\/\S+)$/gm;

/** The results in one web_search output, in order. */
export function resultsIn(output: string): Source[] {
  const out: Source[] = [];
  for (const [, , rawTitle = "", url = ""] of output.matchAll(ENTRY)) {
    let host = "";
    try {
      const u = new URL(url);
      if (u.protocol !== "http:" && u.protocol !== "https:") continue;
      host = u.hostname;
    } catch {
      continue;
    }
    out.push({ title: rawTitle.trim() || host, url, host });
  }
  return out;
}

/**
 * Every source the message's successful web searches returned, each address once. A result
 * belongs to the nearest call before it with its id (a provider may reuse an id in a later
 * round: another tool's output never counts as search results).
 */
export function sourcesOf(parts: Part[]): Source[] {
  const callNames = new Map<string, string>();
  const seen = new Set<string>();
  const out: Source[] = [];
  for (const p of parts) {
    if (p.type === "tool_call") callNames.set(p.call_id, p.name);
    if (p.type !== "tool_result" || p.is_error || callNames.get(p.call_id) !== "web_search") continue;
    for (const s of resultsIn(p.output)) {
      if (seen.has(s.url)) continue;
      seen.add(s.url);
      out.push(s);
    }
  }
  return out;
}
