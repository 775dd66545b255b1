import { describe, expect, it } from "vitest";
import { chipText } from "./queues.svelte";

describe("queue chips", () => {
  it("show a message on one line, cut with an ellipsis", () => {
    expect(chipText("a\n\nb\tc")).toBe("a b c");
    expect(chipText("x".repeat(100), 10)).toBe("xxxxxxxxx…");
    expect(chipText("  short  ")).toBe("short");
  });
});
