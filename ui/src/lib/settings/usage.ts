// Settings → Usage: figures as people read them, the period asked for, and the bars' heights.
import type { UsageRow, UsageTotals } from "../types";

/** 950 → "950", 12_345 → "12.3k", 4_200_000 → "4.2M". */
export function tokens(n: number): string {
  if (n >= 10_000_000) return `${Math.round(n / 1e6)}M`;
  if (n >= 1_000_000) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 10_000) return `${Math.round(n / 1e3)}k`;
  if (n >= 1_000) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Dollars with the precision small sums need: $0, $0.0042, $0.53, $12.40, $1,204. */
export function money(cost: number | null): string {
  // A cost that is not a number (it never should be) reads as nothing spent.
  const x = cost ?? 0;
  if (x === 0) return "$0";
  if (x < 0.01) return `$${x.toPrecision(2)}`;
  if (x < 100) return `$${x.toFixed(2)}`;
  return `$${Math.round(x).toLocaleString("en-US")}`;
}

export type Period = "7" | "30" | "90" | "all";

/** The start of the period (ms), or null for all time; days are counted back from today. */
export function sinceFor(period: Period, now: number): number | null {
  if (period === "all") return null;
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime() - (Number(period) - 1) * 86_400_000;
}

/** What a bar measures: the cost when anything had a price, else the tokens. */
export function measure(rows: UsageRow[]): { of: (t: UsageTotals) => number; label: (t: UsageTotals) => string; max: number } {
  const priced = rows.some((r) => (r.totals.cost ?? 0) > 0);
  const of = (t: UsageTotals) => (priced ? (t.cost ?? 0) : t.input_tokens + t.output_tokens);
  const label = (t: UsageTotals) => (priced ? money(t.cost) : `${tokens(t.input_tokens + t.output_tokens)} tokens`);
  return { of, label, max: Math.max(0, ...rows.map((r) => of(r.totals))) };
}

/** The notes a total carries: answers without reported usage, answers without a price. */
export function notes(t: UsageTotals): string[] {
  const out: string[] = [];
  if (t.not_reported) out.push(`${t.not_reported} answer${t.not_reported === 1 ? "" : "s"} without reported usage`);
  if (t.unpriced) out.push(`${t.unpriced} answer${t.unpriced === 1 ? "" : "s"} of a model without a price`);
  return out;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Every UTC day from `since` (or the first day with usage) to `now`, each with its row if it
 * had usage: a chart with a time axis, where quiet days are gaps. At most `most` days (the
 * latest).
 */
export function everyDay(rows: UsageRow[], since: number | null, now: number, most = 366): { key: string; row: UsageRow | null }[] {
  const by = new Map(rows.map((r) => [r.key, r]));
  const first = since !== null ? utcDay(since) : (rows[0]?.key ?? utcDay(now));
  const out: { key: string; row: UsageRow | null }[] = [];
  for (let t = Date.parse(`${utcDay(now)}T00:00:00Z`); out.length < most; t -= 86_400_000) {
    const key = utcDay(t);
    if (key < first) break;
    out.push({ key, row: by.get(key) ?? null });
  }
  return out.reverse();
}
