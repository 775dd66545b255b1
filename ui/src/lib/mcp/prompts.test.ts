import { describe, expect, it } from "vitest";
import { atQuery, matchPrompts, matchResources, missingArgs, slashQuery, withoutAt } from "./prompts";
import type { McpPrompt } from "../types";

const p = (server: string, name: string, title: string | null = null, args: McpPrompt["arguments"] = []): McpPrompt => ({
  server,
  name,
  title,
  description: "",
  arguments: args,
});

describe("the / commands", () => {
  it("reads the query only while a command is typed", () => {
    expect(slashQuery("/def")).toBe("def");
    expect(slashQuery("/")).toBe("");
    for (const t of ["", "def", "/def word", "/def\nmore", " /def"]) expect(slashQuery(t)).toBeNull();
  });

  it("matches by name, title or server, starts first, bounded", () => {
    const list = [p("dict", "define", "Define a word"), p("dict", "redefine"), p("code", "review", "Review code"), p("x", "zzz")];
    expect(matchPrompts(list, "def").map((x) => x.name)).toEqual(["define", "redefine"]);
    expect(matchPrompts(list, "review").map((x) => x.name)).toEqual(["review"]);
    expect(matchPrompts(list, "code/").map((x) => x.name)).toEqual(["review"]);
    expect(matchPrompts(list, "nothing")).toEqual([]);
    expect(matchPrompts(list, "").length).toBe(4);
    expect(matchPrompts(list, "", 2).length).toBe(2);
  });

  it("names the required arguments left empty", () => {
    const q = p("dict", "define", null, [
      { name: "word", description: "", required: true },
      { name: "lang", description: "", required: false },
    ]);
    expect(missingArgs(q, {})).toEqual(["word"]);
    expect(missingArgs(q, { word: "  " })).toEqual(["word"]);
    expect(missingArgs(q, { word: "hi" })).toEqual([]);
  });
});

describe("the @ resources", () => {
  it("reads the @word typed at the end", () => {
    expect(atQuery("look at @tod")).toBe("tod");
    expect(atQuery("@")).toBe("");
    for (const t of ["mail me@x", "@tod more", "look at", "a@b"]) expect(atQuery(t)).toBeNull();
    expect(withoutAt("look at @tod")).toBe("look at ");
    expect(withoutAt("@tod")).toBe("");
  });

  it("matches by name, title or address", () => {
    const r = (uri: string, name: string, title: string | null = null) => ({ server: "s", uri, name, title, description: "", mime: null });
    const list = [r("dict://words/today.md", "today.md", "Word of the day"), r("dict://pics/dot.png", "dot.png")];
    expect(matchResources(list, "word").map((x) => x.name)).toEqual(["today.md"]);
    expect(matchResources(list, "dict://pics").map((x) => x.name)).toEqual(["dot.png"]);
    expect(matchResources(list, "zzz")).toEqual([]);
  });
});
