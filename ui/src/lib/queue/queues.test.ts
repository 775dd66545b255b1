import { describe, expect, it } from "vitest";
import { chipText } from "./queues.svelte";

describe("queue chips", () => {
  it("show a message on one line, cut with an ellipsis", () => {
    expect(chipText("a\n\nb\tc")).toBe("a b c");
    expect(chipText("x".repeat(100), 10)).toBe("xxxxxxxxx…");
    expect(chipText("  short  ")).toBe("short");
    // Hidden and direction-changing characters are marked; a cut never splits a character.
    expect(chipText("a\u202Eb")).toBe("a⟦U+202E⟧b");
    expect(chipText("😀😀😀", 3)).toBe("😀😀😀");
    expect(chipText("😀😀😀😀", 3)).toBe("😀😀…");
  });
});
