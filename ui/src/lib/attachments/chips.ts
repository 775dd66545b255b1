// The composer's attachments before sending: one chip per file, each attaching, ready, failed
// or cancelled. Pure: the draft (draft.svelte.ts) runs the commands and feeds their outcomes in
// here, and a result that arrives after its chip was cancelled or removed changes nothing.
import { visible } from "../approvals/visible";
import type { Attachment_Serialize } from "../../bindings";
import type { Part } from "../types";

export type ImagePart = Extract<Part, { type: "image" }>;
export type FilePart = Extract<Part, { type: "file" }>;
export type AttachedPart = ImagePart | FilePart;

/** What attaching a file returns (parley_protocol::Attachment). */
export type Attachment = Attachment_Serialize;

export type ChipState = "attaching" | "ready" | "failed" | "cancelled";

export interface Chip {
  /** The job id the UI chose for the attach command (its Cancel names it). */
  job: string;
  /** The file's name as the person knows it ("" for a pasted image). */
  name: string;
  /** Bytes: the original file's size once known. */
  size: number | null;
  state: ChipState;
  part: AttachedPart | null;
  notes: string[];
  /** The sentence shown when attaching failed; it names the file. */
  error: string | null;
}

/** A chip for a file being attached. */
export function attaching(job: string, name: string, size: number | null = null): Chip {
  return { job, name, size, state: "attaching", part: null, notes: [], error: null };
}

function update(chips: readonly Chip[], job: string, f: (c: Chip) => Chip): Chip[] {
  return chips.map((c) => (c.job === job && c.state === "attaching" ? f(c) : c));
}

/** The command answered: the chip is ready (only if it is still attaching). */
export function settled(chips: readonly Chip[], job: string, a: Attachment): Chip[] {
  const part = a.part.type === "image" || a.part.type === "file" ? a.part : null;
  if (!part) return failed(chips, job, "Parley could not attach this file.");
  return update(chips, job, (c) => ({
    ...c,
    state: "ready",
    part,
    size: a.original_size || c.size || (part.type === "image" ? (part.size ?? null) : null),
    name: c.name || (part.type === "file" ? part.name : (part.name ?? "")),
    notes: a.notes,
  }));
}

/** The command failed with `message`: a sentence that names the file. */
export function failed(chips: readonly Chip[], job: string, message: string): Chip[] {
  return update(chips, job, (c) => ({ ...c, state: "failed", error: namingFile(c.name, message) }));
}

/** The person cancelled a chip that was still attaching. */
export function cancelled(chips: readonly Chip[], job: string): Chip[] {
  return update(chips, job, (c) => ({ ...c, state: "cancelled" }));
}

/** The person removed a chip (in any state). */
export function removed(chips: readonly Chip[], job: string): Chip[] {
  return chips.filter((c) => c.job !== job);
}

/** The chips the composer shows: a cancelled one is gone. */
export function shown(chips: readonly Chip[]): Chip[] {
  return chips.filter((c) => c.state !== "cancelled");
}

/** True while any file is still being attached (sending waits for it). */
export function busy(chips: readonly Chip[]): boolean {
  return chips.some((c) => c.state === "attaching");
}

/** The parts sent with the message: the ready chips', in the order they were added. */
export function partsOf(chips: readonly Chip[]): AttachedPart[] {
  return chips.flatMap((c) => (c.state === "ready" && c.part ? [c.part] : []));
}

/** A label for a file name: hidden characters made visible, at most `max` characters, the
 *  extension kept. The whole (made visible) name goes in the tooltip. */
export function labelOf(name: string, max = 40): string {
  if (!name) return "Pasted image";
  const v = shownName(name);
  const chars = [...v];
  if (chars.length <= max) return v;
  const dot = v.lastIndexOf(".");
  const ext = dot > 0 && v.length - dot <= 8 ? v.slice(dot) : "";
  const head = chars.slice(0, max - [...ext].length - 1).join("");
  return `${head}…${ext}`;
}

/** A file name with its hidden characters made visible, line breaks and tabs too (a name is
 *  one line). */
export function shownName(name: string): string {
  const marked = name.replace(/[\n\r\t]/g, (ch) => `⟦U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟧`);
  return visible(marked);
}

/** A sentence about a file that names it: the message as is when it already does. */
export function namingFile(name: string, message: string): string {
  const label = labelOf(name, 80);
  const text = visible(message.trim() || "Parley could not attach this file.");
  return name && text.includes(visible(name)) ? text : `${label}: ${text}`;
}

/** A byte count for people: "0 B", "512 B", "1.5 KB", "12 KB", "3.4 MB", "2.0 GB". */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** The last part of a path, with either separator (what a dropped or picked file is called). */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== "");
  return parts[parts.length - 1] ?? "";
}

/** The paths of one drop or pick worth attaching: no empty ones, each once, in order. */
export function droppedPaths(paths: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of paths) {
    if (!p || !fileName(p) || seen.has(p)) continue;
    seen.add(p);
    out.push(p);
  }
  return out;
}

/** The image types a paste may carry (the rest of the clipboard is left to the text box). */
export const PASTE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/** The minimum of a clipboard item this reads. */
export interface ClipItem {
  kind: string;
  type: string;
  getAsFile(): File | null;
}

/** The images a paste carries: file items of a raster image type; text, HTML and other files
 *  are ignored (SVG too: never rendered as active content). */
export function pastedImages(items: ArrayLike<ClipItem> | null | undefined): File[] {
  if (!items) return [];
  const out: File[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.kind !== "file" || !PASTE_TYPES.includes(it.type.toLowerCase())) continue;
    const f = it.getAsFile();
    if (f) out.push(f);
  }
  return out;
}

/** Base64 of bytes, in pieces (a spread of a large array would overflow the stack). */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) s += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(s);
}
