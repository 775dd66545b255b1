// The chat list's rows: pinned chats first, then the others grouped by when they were last
// active (Today, Yesterday, Previous 7 days, Previous 30 days, then by month) — or created, or
// by the title's first letter, as the list is sorted — each group under a header row. The list
// arrives sorted (pinned first), so this is one pass.
import type { ChatSort, ChatSummary } from "../types";

export type Row = { kind: "header"; label: string; key: string } | { kind: "chat"; s: ChatSummary; index: number };

const DAY = 24 * 60 * 60 * 1000;
// The window's words are English; so are the month names (and no Intl: formatting the first
// date in WebKit loads its locale data, tens of ms on the first paint of a long list).
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The group a chat last active at `t` falls in, seen at `now` (local time). */
export function groupOf(t: number, now: number): string {
  return grouper(now)(t);
}

/**
 * A function from a time to its group, for one `now`: the day boundaries are computed once and
 * each month's name once.
 */
function grouper(now: number): (t: number) => string {
  const today = startOfDay(now);
  const year = new Date(now).getFullYear();
  const months = new Map<number, string>();
  return (t) => {
    if (t >= today) return "Today";
    if (t >= today - DAY) return "Yesterday";
    if (t >= today - 7 * DAY) return "Previous 7 days";
    if (t >= today - 30 * DAY) return "Previous 30 days";
    const d = new Date(t);
    const key = d.getFullYear() * 12 + d.getMonth();
    let name = months.get(key);
    if (name === undefined) {
      const month = MONTHS[d.getMonth()]!;
      name = d.getFullYear() === year ? month : `${month} ${d.getFullYear()}`;
      months.set(key, name);
    }
    return name;
  };
}

/** The group of a title in an A–Z list, in the order the database sorts titles (ASCII letters
 * without regard to case): "#" for what comes before A (digits, spaces, most punctuation, an
 * empty title), the letter, or "Other" for what comes after Z (accented and other scripts). */
export function letterOf(title: string): string {
  const c = title.charCodeAt(0);
  if (Number.isNaN(c) || c < 0x41) return "#";
  if (c <= 0x5a) return title.charAt(0);
  if (c >= 0x61 && c <= 0x7a) return title.charAt(0).toUpperCase();
  return "Other";
}

/** The rows of `chats` (in `sort`'s order): grouped by when they were last active, created, or
 * by the title's first letter. */
export function chatRows(chats: ChatSummary[], now: number, sort: ChatSort = "updated"): Row[] {
  const byDay = grouper(now);
  const group = (s: ChatSummary) => (sort === "title" ? letterOf(s.title) : byDay(sort === "created" ? s.created_at : s.updated_at));
  const rows: Row[] = [];
  let last: string | null = null;
  chats.forEach((s, index) => {
    const label = s.pinned ? "Pinned" : group(s);
    if (label !== last) {
      rows.push({ kind: "header", label, key: `h:${label}:${index}` });
      last = label;
    }
    rows.push({ kind: "chat", s, index });
  });
  return rows;
}
