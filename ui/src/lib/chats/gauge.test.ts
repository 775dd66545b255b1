import { describe, expect, it, vi } from "vitest";
import { compact, debounce, label, level, sourceText, tooltip, warningOf } from "./gauge";
import type { ContextEstimate } from "../types";

function est(over: Partial<ContextEstimate> = {}): ContextEstimate {
  return {
    provider: "local",
    model: "m",
    window: 8192,
    source: "table",
    answer_room: 2048,
    budget: 5325,
    tokens: 1000,
    draft_tokens: 10,
    fixed_tokens: 0,
    chat_tokens: 1000,
    reported_base: null,
    fits: true,
    left_out: 0,
    left_out_by_draft: 0,
    first_kept: null,
    last_left_out: 0,
    draft_too_long: false,
    ...over,
  };
}

describe("the context gauge", () => {
  it("writes token counts compactly", () => {
    const table: [number, string][] = [
      [0, "0"], [999, "999"], [1000, "1k"], [1234, "1.2k"], [9_960, "10k"], [12_345, "12k"],
      [128_000, "128k"], [999_499, "999k"], [1_047_576, "1M"], [2_097_152, "2.1M"], [100_000_000, "100M"],
    ];
    for (const [n, s] of table) expect(compact(n), String(n)).toBe(s);
    expect(label(est({ tokens: 12_345, window: 128_000 }))).toBe("12k / 128k");
  });

  it("names every source of the window, and says how to set an unknown one", () => {
    for (const s of ["settings", "provider", "table", "default"] as const) expect(sourceText(s).length).toBeGreaterThan(10);
    expect(sourceText("default")).toContain("Settings");
    const t = tooltip(est({ source: "provider", tokens: 4000, reported_base: 3900 }));
    expect(t).toContain("provider's model list");
    expect(t).toContain("3,900 tokens the provider reported");
    expect(tooltip(est({ left_out: 12 }))).toContain("12 oldest messages will be left out");
  });

  it("fills up: ok, near the budget, over when anything is left out", () => {
    expect(level(est())).toBe("ok");
    expect(level(est({ tokens: 4300 }))).toBe("near");
    expect(level(est({ tokens: 4300, fixed_tokens: 2000 }))).toBe("ok");
    expect(level(est({ left_out: 1 }))).toBe("over");
    expect(level(est({ draft_too_long: true }))).toBe("over");
  });

  it("warns before a send that will not fit, and not for a long chat sliding as usual", () => {
    const cases: [Partial<ContextEstimate>, number, string | null][] = [
      [{}, 0, null],
      [{ tokens: 5000 }, 0, null],
      // A long chat already trimmed last time, the draft not to blame: the gauge shows it.
      [{ left_out: 40, last_left_out: 38 }, 0, null],
      [{ left_out: 40, last_left_out: 38, left_out_by_draft: 0 }, 2, null],
      // The chat stops fitting with this send.
      [{ left_out: 2, last_left_out: 0 }, 0, "starts-leaving-out"],
      // The draft itself pushes messages out.
      [{ left_out: 10, left_out_by_draft: 8, last_left_out: 2 }, 0, "draft-leaves-out"],
      [{ left_out: 10, left_out_by_draft: 10 }, 1, "draft-leaves-out"],
      // Too long alone wins over everything.
      [{ draft_too_long: true, left_out: 10, left_out_by_draft: 10 }, 0, "too-long"],
      [{ draft_too_long: true }, 3, "too-long"],
    ];
    for (const [over, attachments, kind] of cases) {
      const w = warningOf(est(over), attachments);
      expect(w?.kind ?? null, JSON.stringify(over)).toBe(kind);
      if (w) {
        expect(w.text.length).toBeGreaterThan(20);
        expect(w.advice.length).toBeGreaterThan(1);
        expect(w.advice.some((a) => a.includes("attachment"))).toBe(attachments > 0);
      }
    }
    expect(warningOf(est({ left_out: 10, left_out_by_draft: 10 }), 0)?.advice.join(" ")).toMatch(/Branch.*new chat/);
  });

  it("asks once after the typing stops, never on each key", () => {
    vi.useFakeTimers();
    const run = vi.fn();
    const later = debounce(run, 300);
    for (let i = 0; i < 20; i++) {
      later(i);
      vi.advanceTimersByTime(100);
    }
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run).toHaveBeenCalledWith(19);
    later(20);
    later.cancel();
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(1);
    vi.useRealTimers();
  });
});
