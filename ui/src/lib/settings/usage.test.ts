import { describe, expect, it } from "vitest";
import { everyDay, measure, money, notes, sinceFor, tokens } from "./usage";
import type { UsageRow, UsageTotals } from "../types";

const totals = (t: Partial<UsageTotals>): UsageTotals => ({
  answers: 1, not_reported: 0, input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0, cost: 0, unpriced: 0, ...t,
});

describe("usage figures", () => {
  it("reads tokens and dollars the way people do", () => {
    expect([950, 1_234, 12_345, 4_200_000, 42_000_000].map(tokens)).toEqual(["950", "1.2k", "12k", "4.2M", "42M"]);
    expect([0, 0.0042, 0.531, 12.4, 1204.4].map(money)).toEqual(["$0", "$0.0042", "$0.53", "$12.40", "$1,204"]);
  });

  it("counts a period back from today's start", () => {
    const now = new Date(2026, 11, 1, 15, 30).getTime();
    expect(sinceFor("all", now)).toBeNull();
    expect(new Date(sinceFor("7", now)!).getDate()).toBe(25);
    expect(new Date(sinceFor("7", now)!).getHours()).toBe(0);
  });

  it("measures bars by cost, or by tokens when nothing had a price", () => {
    const row = (t: Partial<UsageTotals>): UsageRow => ({ key: "k", label: "k", totals: totals(t) });
    const m = measure([row({ cost: 1 }), row({ cost: 3, input_tokens: 5 })]);
    expect(m.max).toBe(3);
    expect(m.label(totals({ cost: 3 }))).toBe("$3.00");
    const free = measure([row({ input_tokens: 10, output_tokens: 5 })]);
    expect(free.max).toBe(15);
    expect(free.label(totals({ input_tokens: 10, output_tokens: 5 }))).toBe("15 tokens");
    expect(notes(totals({ not_reported: 2, unpriced: 1 }))).toEqual(["2 answers without reported usage", "1 answer of a model without a price"]);
  });
});

describe("the chart's days", () => {
  it("lists every day of the period, quiet ones empty", () => {
    const row = (key: string): UsageRow => ({ key, label: key, totals: totals({ cost: 1 }) });
    const now = Date.parse("2026-12-01T12:00:00Z");
    const days = everyDay([row("2026-11-29"), row("2026-12-01")], Date.parse("2026-11-28T00:00:00Z"), now);
    expect(days.map((d) => [d.key, d.row !== null])).toEqual([
      ["2026-11-28", false],
      ["2026-11-29", true],
      ["2026-11-30", false],
      ["2026-12-01", true],
    ]);
    expect(everyDay([row("2026-11-30")], null, now).map((d) => d.key)).toEqual(["2026-11-30", "2026-12-01"]);
    expect(everyDay([], null, now, 5).length).toBe(1);
    expect(everyDay([row("2000-01-01")], null, now, 10).length).toBe(10);
  });
});
