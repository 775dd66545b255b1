import { describe, expect, it } from "vitest";
import { argumentFields, argumentSummary, hasHidden, visible } from "./visible";

describe("visible", () => {
  it("marks bidi overrides, zero-width and control characters", () => {
    expect(visible("rm -rf \u202E/ fdp\u200B\u0007")).toBe("rm -rf ⟦U+202E⟧/ fdp⟦U+200B⟧⟦U+0007⟧");
    expect(hasHidden("ls\u2066")).toBe(true);
    expect(hasHidden("plain text\nnext line")).toBe(false);
    expect(visible("a\nb")).toBe("a\nb");
  });
  it("splits JSON arguments into fields and summarises the first", () => {
    expect(argumentFields('{"command":"ls -la","timeout_secs":5}')).toEqual([["command", "ls -la"], ["timeout_secs", "5"]]);
    expect(argumentFields("not json")).toBeNull();
    expect(argumentSummary('{"path":"src/main.rs\\nsecond"}')).toBe("src/main.rs");
  });
});
