// Model-written values made safe to read in an approval dialog: control characters, bidi
// overrides and invisible characters are shown as visible markers instead of acting on the
// text around them. Svelte escapes the result; this only makes the invisible visible.
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;

export function visible(s: string): string {
  return s.replace(INVISIBLE, (c) => `⟦U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟧`).replace(/\t/g, "⇥\t");
}

/** True when the text has characters `visible` marks. */
export function hasHidden(s: string): boolean {
  INVISIBLE.lastIndex = 0;
  return INVISIBLE.test(s);
}

/** The arguments as fields (key → text) when they are a JSON object, else null. */
export function argumentFields(raw: string): [string, string][] | null {
  try {
    const v = JSON.parse(raw);
    if (!v || typeof v !== "object" || Array.isArray(v)) return null;
    return Object.entries(v).map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x, null, 2)]);
  } catch {
    return null;
  }
}

/** A one-line summary of a call for its card header: its first string argument, cut. */
export function argumentSummary(raw: string): string {
  const f = argumentFields(raw);
  const first = f?.find(([, v]) => v.length > 0)?.[1] ?? raw;
  const line = visible(first.split("\n")[0] ?? "");
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
