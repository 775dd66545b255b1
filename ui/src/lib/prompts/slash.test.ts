import { describe, expect, it } from "vitest";
import { emptyVariables, firstLine, plain, slashItems } from "./slash";
import type { Assistant, McpPrompt, Prompt } from "../types";

const prompt = (name: string, body = "Text", variables: string[] = []): Prompt => ({ id: name, name, body, variables, updated_at: 0 });
const assistant = (name: string) => ({ id: name, name }) as unknown as Assistant;
const mcp = (name: string): McpPrompt => ({ server: "dict", name, title: null, description: "", arguments: [] });

describe("the / menu", () => {
  it("lists those starting with the query first; saved prompts, then MCP prompts, then assistants", () => {
    const items = slashItems([prompt("Summarise text"), prompt("Re-summarise")], [assistant("Summit helper")], [mcp("summary")], "sum");
    expect(items.map((i) => `${i.kind}:${i.name}`)).toEqual(["prompt:Summarise text", "mcp:summary", "assistant:Summit helper", "prompt:Re-summarise"]);
    // An assistant only by the start of its name.
    expect(slashItems([], [assistant("Default")], [], "e")).toEqual([]);
    // The default assistant does not come before a server's prompt of the same start.
    expect(slashItems([], [assistant("Default")], [mcp("define")], "def").map((i) => i.kind)).toEqual(["mcp", "assistant"]);
  });

  it("matches a name with spaces typed with dashes, and is bounded", () => {
    expect(slashItems([prompt("Code review")], [], [], "code-r").map((i) => i.name)).toEqual(["Code review"]);
    const many = Array.from({ length: 30 }, (_, i) => prompt(`p${i}`));
    expect(slashItems(many, [], [], "").length).toBe(12);
    expect(slashItems(many, [], [], "nothing")).toEqual([]);
  });

  it("says which variables are still empty, and shows a first line", () => {
    const p = prompt("x", "a", ["topic", "level"]);
    expect(emptyVariables(p, { "v:topic": "rust" })).toEqual(["level"]);
    expect(emptyVariables(p, { "v:topic": "rust", "v:level": " " })).toEqual([]);
    // Names every object has are variables like any other.
    const odd = prompt("y", "b", ["constructor", "toString"]);
    expect(emptyVariables(odd, {})).toEqual(["constructor", "toString"]);
    expect(plain({ "v:constructor": "c", "v:toString": "t" })).toEqual(Object.assign(Object.create(null), { constructor: "c", toString: "t" }));
    expect(firstLine("one\ntwo")).toBe("one");
    expect(firstLine("x".repeat(100)).length).toBe(80);
  });
});
