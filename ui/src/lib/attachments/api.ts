// The window's attachment commands, in one place. Attaching (reading, converting, storing) runs
// in Rust off the UI thread; the job id is chosen here so Cancel can name it before the command
// answers. Stored images are shown through the `attachment` scheme Rust serves.
import { Channel } from "@tauri-apps/api/core";
import { commands } from "../../bindings";
import type { DropEvent } from "../../bindings";
import { ApiError } from "../api";
import type { ErrorInfo } from "../types";

async function ok<T>(r: Promise<{ status: "ok"; data: T } | { status: "error"; error: ErrorInfo }>): Promise<T> {
  const v = await r;
  if (v.status === "error") throw new ApiError(v.error);
  return v.data;
}

let jobs = 0;
/** A new job id for one attach command. */
export function newJob(): string {
  jobs += 1;
  return `attach-${Date.now().toString(36)}-${jobs}`;
}

export const attachApi = {
  /** Reads, converts and stores the file at `path` (a path the person picked or dropped). */
  attachFile: (path: string, job: string) => ok(commands.attachFile(path, job)),
  /** Stores pasted bytes (base64) as an attachment called `name`. */
  attachBytes: (name: string, mime: string, data: string, job: string) => ok(commands.attachBytes(name, mime, data, job)),
  /** Stops the attach command `job`; it then fails as cancelled and stores nothing. */
  cancelAttach: (job: string) => ok(commands.cancelAttach(job)),
  /** The native dialog for files to attach: the picked paths (none when cancelled). */
  pickAttachments: () => ok(commands.pickAttachments()),
  /** Files dragged onto the window reach `on` (the newest page's channel wins). */
  watchDrops: (on: (e: DropEvent) => void) => {
    const ch = new Channel<DropEvent>();
    ch.onmessage = on;
    return ok(commands.watchDrops(ch as never));
  },
};

const SHA = /^[0-9a-f]{64}$/;

/** Where the window loads a stored image (its thumbnail with `thumb`); null for anything that
 *  is not a stored image's address, so no other URL is ever built from a part. */
export function attachmentUrl(sha: string | undefined | null, thumb = false, windows = isWindows()): string | null {
  if (!sha || !SHA.test(sha)) return null;
  const base = windows ? `http://attachment.localhost/${sha}` : `attachment://localhost/${sha}`;
  return thumb ? `${base}?thumb` : base;
}

function isWindows(): boolean {
  return typeof navigator !== "undefined" && /Windows/i.test(navigator.userAgent);
}

/** The raster types an image part may be shown as (never SVG: no active content). */
const SHOWN = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

/** The source of an image part: its stored address, or for an older row still carrying its
 *  bytes inline, a data: URL of a raster type; null when there is nothing safe to show. */
export function imageSource(p: { mime: string; sha256?: string; data?: string | null }, thumb = false): string | null {
  const stored = attachmentUrl(p.sha256, thumb);
  if (stored) return stored;
  const mime = p.mime.toLowerCase();
  if (p.data && SHOWN.has(mime) && /^[A-Za-z0-9+/=\s]+$/.test(p.data)) return `data:${mime};base64,${p.data.replace(/\s/g, "")}`;
  return null;
}
