import { describe, expect, it } from "vitest";
import { argumentFields, argumentSummary, hasHidden, visible } from "./visible";

describe("visible", () => {
  it("marks bidi overrides, zero-width and control characters", () => {
    expect(visible("rm -rf \u202E/ fdp\u200B\u0007")).toBe("rm -rf ⟦U+202E⟧/ fdp⟦U+200B⟧⟦U+0007⟧");
    expect(hasHidden("ls\u2066")).toBe(true);
    expect(hasHidden("plain text\nnext line")).toBe(false);
    expect(visible("a\nb")).toBe("a\nb");
  });
  it("uses the core's table: the same cases as parley_protocol::visible", () => {
    const cases: [string, string][] = [
      ["a\rb", "a⟦U+000D⟧b"],
      ["\u001b[2Jclear", "⟦U+001B⟧[2Jclear"],
      ["\u0085next line", "⟦U+0085⟧next line"],
      ["soft\u00ADhyphen", "soft⟦U+00AD⟧hyphen"],
      ["\u2066isolate\u2069", "⟦U+2066⟧isolate⟦U+2069⟧"],
      ["\u2028", "⟦U+2028⟧"],
      ["\uFEFFbom", "⟦U+FEFF⟧bom"],
      ["x\uFE0F", "x⟦U+FE0F⟧"],
      ["\u{E0041}\u{E0042}tags", "⟦U+E0041⟧⟦U+E0042⟧tags"],
      ["\u{E0101}", "⟦U+E0101⟧"],
      ["\u3164", "⟦U+3164⟧"],
      ["\u061C", "⟦U+061C⟧"],
      ["\u{1D173}", "⟦U+1D173⟧"],
      ["é (e\u0301) ü", "é (e\u0301) ü"],
    ];
    for (const [input, shown] of cases) {
      expect(visible(input)).toBe(shown);
      expect(hasHidden(input)).toBe(input !== shown);
    }
  });
  it("splits JSON arguments into fields and summarises the first", () => {
    expect(argumentFields('{"command":"ls -la","timeout_secs":5}')).toEqual([["command", "ls -la"], ["timeout_secs", "5"]]);
    expect(argumentFields("not json")).toBeNull();
    expect(argumentSummary('{"path":"src/main.rs\\nsecond"}')).toBe("src/main.rs");
  });
});
