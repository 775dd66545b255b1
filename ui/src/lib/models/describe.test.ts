import { describe, expect, it } from "vitest";
import { bytes, engineLine, parameters, wholeOrNull } from "./describe";

describe("local models read as people read them", () => {
  it("sizes and counts", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(105_000_000)).toBe("100 MB");
    expect(bytes(4.5 * 1024 ** 3)).toBe("4.5 GB");
    expect(parameters(134_515_008)).toBe("135M");
    expect(parameters(7_615_616_512)).toBe("7.6B");
    expect(parameters(900)).toBe("900");
  });

  it("the engine's state", () => {
    const base = { model: null, binary: null, message: null, since: 0, idle_seconds: 600 };
    expect(engineLine({ ...base, state: "stopped" })).toContain("Not running");
    expect(engineLine({ ...base, state: "stopped", message: "Being prepared (43%)." })).toBe("Being prepared (43%).");
    expect(engineLine({ ...base, state: "stopped", binary: "/x/llama-server", message: "old" })).toContain("Not running");
    expect(engineLine({ ...base, state: "loading", model: "smol" })).toBe("Loading smol…");
    const reading = { ...base, state: "loading" as const, model: "smol", message: "Reading smol into memory: 40% of 94 MB…", since: 10_000 };
    expect(engineLine(reading)).toBe("Reading smol into memory: 40% of 94 MB…");
    expect(engineLine(reading, 11_500)).toBe("Reading smol into memory: 40% of 94 MB…");
    expect(engineLine(reading, 22_900)).toBe("Reading smol into memory: 40% of 94 MB… (12 s)");
    expect(engineLine({ ...base, state: "ready", model: "smol" })).toBe("Running smol.");
    expect(engineLine({ ...base, state: "failed", message: "It crashed." })).toBe("It crashed.");
  });

  it("settings fields take whole numbers or nothing", () => {
    expect(wholeOrNull("")).toBeNull();
    expect(wholeOrNull(" 4096 ")).toBe(4096);
    expect(wholeOrNull("4k")).toBeUndefined();
    expect(wholeOrNull("-1")).toBeUndefined();
    expect(wholeOrNull("1.5")).toBeUndefined();
  });
});
