import { describe, expect, it } from "vitest";
import { resultsIn, sourcesOf } from "./sources";
import type { Part } from "../types";

const OUT = `Web search results for "rust" (SearXNG). Cite the sources you use as [n].

[1] Rust <lang>
https://www.rust-lang.org/
A language.

[2] Second
http://example.com/a?b=c

[3] Bad
javascript:alert(1)
`;

describe("sources", () => {
  it("reads the core's numbered results", () => {
    const r = resultsIn(OUT);
    expect(r.map((s) => s.url)).toEqual(["https://www.rust-lang.org/", "http://example.com/a?b=c"]);
    expect(r[0]).toEqual({ title: "Rust <lang>", url: "https://www.rust-lang.org/", host: "www.rust-lang.org" });
  });

  it("takes only web_search results that succeeded, each address once", () => {
    const call = (id: string, name: string) => ({ type: "tool_call", call_id: id, name, arguments: "{}", status: "done" }) as unknown as Part;
    const result = (id: string, output: string, is_error = false) => ({ type: "tool_result", call_id: id, output, is_error }) as unknown as Part;
    const parts = [
      call("a", "web_search"),
      result("a", OUT),
      call("b", "fetch_url"),
      result("b", "[1] Fake\nhttps://evil.example/"),
      call("c", "web_search"),
      result("c", "[1] Again\nhttps://www.rust-lang.org/\n\n[2] New\nhttps://new.example/"),
      call("d", "web_search"),
      result("d", "[1] Err\nhttps://err.example/", true),
      // An id used again in a later round by another tool: its output is not a search's.
      call("a", "run_shell"),
      result("a", "[1] Your bank\nhttps://bank-login.evil.example/"),
    ];
    expect(sourcesOf(parts).map((s) => s.url)).toEqual(["https://www.rust-lang.org/", "http://example.com/a?b=c", "https://new.example/"]);
    expect(sourcesOf([])).toEqual([]);
  });
});
