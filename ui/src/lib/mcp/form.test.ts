import { describe, expect, it } from "vitest";
import { emptyDraft, inputOf, whereOf } from "./form";

describe("the add-a-server form", () => {
  it("makes a local server's input: arguments one per line, empty rows dropped", () => {
    const d = { ...emptyDraft(), name: " files ", program: " npx ", args: "-y\r\n@modelcontextprotocol/server-filesystem\n\n/home/me/My Notes", env: [{ name: "TOKEN", value: "s3cret" }, { name: " ", value: "x" }] };
    expect(inputOf(d)).toEqual({
      name: "files",
      transport: { kind: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/My Notes"] },
      env: [{ name: "TOKEN", value: "s3cret" }],
      headers: [],
      enabled: true,
    });
  });

  it("makes a remote server's input with its headers only", () => {
    const d = { ...emptyDraft(), name: "web", kind: "remote" as const, url: " https://mcp.example.com/mcp ", env: [{ name: "A", value: "b" }], headers: [{ name: "Authorization", value: "Bearer t" }] };
    expect(inputOf(d)).toEqual({
      name: "web",
      transport: { kind: "http", url: "https://mcp.example.com/mcp" },
      env: [],
      headers: [{ name: "Authorization", value: "Bearer t" }],
      enabled: true,
    });
  });

  it("shows where a server is", () => {
    const base = { id: "1", name: "x", enabled: true, env_names: [], header_names: [], created_at: 0, protocol: null, read_only: [], signed_in: false };
    expect(whereOf({ ...base, transport: { kind: "stdio", command: "node", args: ["a.js", "--flag"] } })).toBe("node a.js --flag");
    expect(whereOf({ ...base, transport: { kind: "http", url: "https://a.example/mcp" } })).toBe("https://a.example/mcp");
  });
});
