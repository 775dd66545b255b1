// Markdown in blocks, so the cost of showing a message does not grow with its length.
//
// A message is cut into top-level blocks (paragraphs, headings, fenced code, display math, lists,
// tables) by
// a line scanner that never looks back: a block that is followed by another one is finished
// and is rendered once — with code highlighting, since its fence has closed — and then kept.
// While an answer streams only the last block (the tail) is rendered again on each update.
// Very long text is handled in slices: `update` takes a deadline, does what fits before it and
// says whether it is done, so the caller can continue on the next frame and the window keeps
// answering input.

export interface RenderedBlock {
  /** Stable across updates while the block's content is final. */
  key: string;
  html: string;
}

export interface Rendered {
  blocks: RenderedBlock[];
  /** All of the text is rendered (false when a deadline cut the work short). */
  done: boolean;
  /** Where the text not rendered yet starts (its length when done). */
  upTo: number;
}

export type Render = (source: string, streaming: boolean) => string;

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)/;
/** A line opening display math that goes on below it (`$$` or `\[` not closed on the line). */
const MATH_OPEN = /^ {0,3}(\$\$|\\\[)/;
/** A display formula this many lines long without its closing line was not one. */
const MATH_LINES = 100;

interface ScanState {
  /** Where the block being scanned starts. */
  start: number;
  /** Where the next line starts. */
  pos: number;
  fence: { char: string; len: number } | null;
  /** Inside display math: the delimiter that closes it (blank lines in it cut nothing). */
  math: { close: string; lines: number } | null;
  /** A blank line was seen since the last content line. */
  blank: boolean;
  /** The block being scanned starts with a list item. */
  list: boolean;
  /** The block being scanned has content. */
  content: boolean;
}

function freshScan(at: number): ScanState {
  return { start: at, pos: at, fence: null, math: null, blank: false, list: false, content: false };
}

/**
 * Scans lines from `s.pos`, pushing [start, end) of each block that is finished, until the
 * text ends (true), or `deadline` passes or the scan reaches `until` (false). Only complete lines (ending in "\n") are scanned while the
 * text may still grow, so a half-written line never decides a boundary.
 */
function scan(text: string, s: ScanState, out: Array<[number, number]>, final: boolean, deadline: number, until = Infinity): boolean {
  let lines = 0;
  while (s.pos < text.length) {
    if (s.pos >= until || ((++lines & 1023) === 0 && performance.now() > deadline)) return false;
    const nl = text.indexOf("\n", s.pos);
    if (nl < 0 && !final) return true;
    const end = nl < 0 ? text.length : nl + 1;
    const line = text.slice(s.pos, nl < 0 ? text.length : nl);
    const lineStart = s.pos;
    s.pos = end;
    if (s.fence) {
      const close = FENCE.exec(line);
      if (close && close[1]![0] === s.fence.char && close[1]!.length >= s.fence.len && line.slice(close[0].length).trim() === "") {
        // The fence closed: the code block is finished.
        s.fence = null;
        out.push([s.start, end]);
        Object.assign(s, freshScan(end));
      }
      continue;
    }
    if (s.math) {
      if (line.trimEnd().endsWith(s.math.close) || ++s.math.lines >= MATH_LINES) s.math = null;
      continue;
    }
    if (line.trim() === "") {
      if (s.content) s.blank = true;
      else s.start = end; // leading blank lines belong to no block
      continue;
    }
    const open = FENCE.exec(line);
    const item = LIST_ITEM.test(line);
    // A new block starts after a blank line, unless the line continues the block (indented)
    // or extends a list; an opening fence always starts one.
    const cut = s.content && (open || (s.blank && !/^\s/.test(line) && !(item && s.list)));
    if (cut) {
      out.push([s.start, lineStart]);
      // The line opens the new block and is read on below (not again: a bare fence or `$$`
      // read again would close itself).
      Object.assign(s, freshScan(lineStart), { pos: end });
    }
    if (!s.content) s.list = item;
    s.content = true;
    s.blank = false;
    if (open) s.fence = { char: open[1]![0]!, len: open[1]!.length };
    const math = open ? null : MATH_OPEN.exec(line);
    if (math) {
      const close = math[1] === "$$" ? "$$" : "\\]";
      if (!line.slice(math[0].length).includes(close)) s.math = { close, lines: 0 };
    }
  }
  return true;
}

/** A streaming tail is formatted again at most every this many times its formatting cost. */
const TAIL_PACE = 3;

/** `text` escaped and put at the end of `html`'s last element (inside its closing tags). */
function appendText(html: string, text: string): string {
  const end = html.slice(-256);
  const close = /(?:<\/[a-z][a-z0-9]*>\s*)+$/i.exec(end);
  const at = html.length - end.length + (close ? close.index : end.length);
  const escaped = text.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
  return html.slice(0, at) + escaped + html.slice(at);
}

/** Lines are scanned for block boundaries at least this far ahead at a time. */
const SCAN_AHEAD = 2048;
/** Finished texts up to this long are rendered in one piece. */
const WHOLE = 16_000;
/** Finished blocks waiting together are rendered in groups of up to this many characters. */
const GROUP = 8_000;

/**
 * What rendering costs on this machine, in ms per character, learned from the renders done so
 * far (engines differ tenfold: the same 8 KB takes 4 ms in one and 40 ms in another). Work
 * with a deadline is sized by it, so a slice fits its frame wherever the app runs.
 */
export const cost = {
  // It starts pessimistic — WebKitGTK takes 0.012–0.02 ms per character of markdown with code,
  // and the first slice of a long message once cost 30 ms with 0.005 — and learns down within
  // a few renders where the engine is faster.
  msPerChar: 0.015,
  learn(chars: number, ms: number) {
    // Short renders are mostly fixed cost; they say little about the rate.
    if (chars < 500) return;
    this.msPerChar = 0.7 * this.msPerChar + 0.3 * (ms / chars);
  },
  /** How many characters fit before `deadline`. */
  room(deadline: number): number {
    if (deadline === Infinity) return Infinity;
    return Math.max(0, (deadline - performance.now()) / this.msPerChar);
  },
};

/** The text cut at a block boundary no later than `limit` (for showing a long text's start). */
export function headOf(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.lastIndexOf("\n\n", limit);
  return text.slice(0, cut > limit / 2 ? cut : limit);
}

/** The blocks of one growing text, rendered incrementally. */
export class BlockRenderer {
  private text = "";
  private scanState = freshScan(0);
  private found: Array<[number, number]> = [];
  private rendered: RenderedBlock[] = [];
  /** The first found block not rendered yet. */
  private next = 0;
  private tail: RenderedBlock | null = null;
  private tailSource: string | null = null;
  /** The streaming tail as last formatted: its source, HTML, when and at what cost (ms). */
  private formatted: { key: string; source: string; html: string; at: number; ms: number } | null = null;
  private finalTail = false;
  private whole: { source: string; block: RenderedBlock } | null = null;
  private doneFinal = false;
  /** How many times `render` ran (for tests and the bench). */
  renders = 0;

  constructor(private readonly render: Render) {}

  /**
   * Brings the blocks up to `text`. `final` when the text will not grow any more. Returns the
   * blocks and whether all of `text` is rendered (false when `deadline` cut the work short:
   * call again with the same text to continue).
   */
  update(text: string, final: boolean, deadline = Infinity): Rendered {
    if (!this.extends(text)) this.reset();
    // A finished text seen for the first time (history) and not long: one render for all of
    // it is cheaper than one per block (each render has a fixed cost, the sanitizer's most).
    // Only when it fits the deadline; otherwise it goes block by block like a long text.
    if (final && this.scanState.pos === 0 && text.length <= WHOLE && (this.whole?.source === text || text.length <= cost.room(deadline))) {
      if (this.whole?.source !== text) this.whole = { source: text, block: { key: "w", html: this.timed(text, false) } };
      return { blocks: [this.whole.block], done: true, upTo: text.length };
    }
    this.whole = null;
    this.doneFinal = false;
    this.text = text;
    // Lines are scanned only as far as the next group needs, so a slice of a long text costs
    // the same at its start as at its end. Finished blocks waiting together are rendered
    // together (each render has a fixed cost, the sanitizer's most), each group sized to what
    // fits before the deadline; at least one block per call, so a deadline already past still
    // makes progress. While streaming a group is usually one block.
    let n = 0;
    for (let scanned = false; ; ) {
      const room = Math.min(GROUP, cost.room(deadline));
      if (this.next >= this.found.length) {
        if (scanned) break;
        if (n > 0 && room <= 0) return this.partial();
        scanned = scan(text, this.scanState, this.found, final, deadline, this.scanState.pos + Math.max(SCAN_AHEAD, room));
        if (!scanned && this.next >= this.found.length && performance.now() > deadline) return this.partial();
        continue;
      }
      const start = this.found[this.next]![0];
      if (n > 0 && this.found[this.next]![1] - start > room) return this.partial();
      let end = this.found[this.next]![1];
      this.next++;
      while (this.next < this.found.length && this.found[this.next]![1] - start <= room) end = this.found[this.next++]![1];
      this.rendered.push({ key: `b${start}`, html: this.timed(text.slice(start, end), false) });
      n++;
    }
    const tailStart = this.scanState.start;
    const source = text.slice(tailStart);
    let pending = false;
    if (source.trim() === "") {
      this.tail = null;
    } else if (source !== this.tailSource || final !== this.finalTail || (this.formatted && this.formatted.source !== source)) {
      if (n > 0 && source.length > cost.room(deadline)) return this.partial();
      const key = `${final ? "b" : "t"}${tailStart}`;
      const f = this.formatted;
      const now = performance.now();
      if (!final && f && f.key === key && now - f.at < TAIL_PACE * f.ms && source.startsWith(f.source)) {
        // A long tail (a paragraph of thousands of characters) is formatted again at most
        // every TAIL_PACE times what formatting it costs; meanwhile the words that arrived
        // since are shown as written, at the end of the last formatting.
        this.tail = { key, html: appendText(f.html, source.slice(f.source.length)) };
        pending = true;
      } else {
        const html = this.timed(source, !final);
        this.tail = { key, html };
        this.formatted = final ? null : { key, source, html, at: now, ms: performance.now() - now };
      }
    }
    this.tailSource = source;
    this.finalTail = final;
    this.doneFinal = final;
    // Not done while the tail waits to be formatted again: the caller comes back next frame.
    return { blocks: this.tail ? [...this.rendered, this.tail] : this.rendered.slice(), done: !pending, upTo: text.length };
  }

  /** The blocks rendered so far, and where the text not rendered yet starts. */
  private partial(): Rendered {
    const upTo = this.next > 0 ? this.found[this.next - 1]![1] : 0;
    // A new array: the caller tells changes by identity.
    return { blocks: this.rendered.slice(), done: false, upTo };
  }

  private timed(source: string, streaming: boolean): string {
    this.renders++;
    const t0 = performance.now();
    const html = this.render(source, streaming);
    cost.learn(source.length, performance.now() - t0);
    return html;
  }

  /** Whether `update(text, true)` has nothing left to do (already rendered, final). */
  ready(text: string): boolean {
    return this.whole?.source === text || (this.doneFinal && this.text === text);
  }

  private extends(text: string): boolean {
    // Streaming only ever appends; anything else (an edit, another message) starts over. The
    // check looks at the scanned region's end instead of comparing the whole text.
    const at = this.scanState.pos;
    if (text.length < at) return false;
    const from = Math.max(0, at - 64);
    return text.slice(from, at) === this.text.slice(from, at);
  }

  private reset() {
    this.scanState = freshScan(0);
    this.found = [];
    this.rendered = [];
    this.next = 0;
    this.tail = null;
    this.tailSource = null;
    this.formatted = null;
  }
}
