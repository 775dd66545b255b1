import { describe, expect, it } from "vitest";
import { resultImageFlags, resultImages } from "./resultImages";
import type { Part } from "../types";

const SHA = "ab".repeat(32);
const image = (name: string): Part => ({ type: "image", mime: "image/png", sha256: SHA, name, width: 2, height: 2, size: 9 });
const call = (id: string): Part => ({ type: "tool_call", call_id: id, name: "shot", arguments: "{}", status: "completed" });
const result = (id: string): Part => ({ type: "tool_result", call_id: id, output: "ok", is_error: false });

describe("result images", () => {
  const parts: Part[] = [call("a"), call("b"), result("a"), image("1"), image("2"), result("b"), { type: "text", text: "Done" }, image("own")];

  it("belong to the result before them; the answer's own image does not", () => {
    expect(resultImageFlags(parts)).toEqual([false, false, false, true, true, false, false, false]);
    expect(resultImages(parts, "a").map((r) => r.index)).toEqual([3, 4]);
    expect(resultImages(parts, "b")).toEqual([]);
    expect(resultImages(parts, "missing")).toEqual([]);
  });
});
