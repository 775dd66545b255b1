// The chat list the sidebar shows: the chats the filter selects (the archive or the chats in
// use, all or one assistant's), pinned first, paged in as the list scrolls, with the counts per
// group. Raw state: replaced whole, never changed in place, so 10,000 chats are not wrapped in
// deep proxies.
import { api } from "../api";
import type { ChatCounts, ChatFilter, ChatSummary } from "../types";

/** Chats fetched at once; later pages are as large as what is loaded. */
const PAGE = 200;

export class ChatList {
  chats = $state.raw<ChatSummary[]>([]);
  filter = $state.raw<ChatFilter>({ archived: false, assistant: null, sort: "updated" });
  counts = $state.raw<ChatCounts | null>(null);
  /** Every chat the filter selects is loaded. */
  end = $state(false);
  #loading = false;

  constructor(private readonly onerror: (e: unknown) => void) {}

  /** The loaded part of the list again, so its order follows activity. */
  async refresh(): Promise<void> {
    try {
      const want = Math.max(PAGE, this.chats.length);
      const f = this.filter;
      const list = await api.listChats(f, want, 0);
      if (f !== this.filter) return;
      this.chats = list;
      this.end = list.length < want;
      // The counts read every chat: they follow the list instead of holding up its paint.
      void this.refreshCounts();
    } catch (e) {
      this.onerror(e);
    }
  }

  async refreshCounts(): Promise<void> {
    try {
      this.counts = await api.chatCounts();
    } catch (e) {
      this.onerror(e);
    }
  }

  /** The next page of older chats (each as large as what is loaded: 10,000 chats are a handful of fetches). */
  async more(): Promise<void> {
    if (this.end || this.#loading) return;
    this.#loading = true;
    try {
      const size = Math.max(PAGE, this.chats.length);
      const f = this.filter;
      const page = await api.listChats(f, size, this.chats.length);
      if (f !== this.filter) return;
      const known = new Set(this.chats.map((s) => s.id));
      this.chats = [...this.chats, ...page.filter((s) => !known.has(s.id))];
      this.end = page.length < size;
    } catch (e) {
      this.onerror(e);
    } finally {
      this.#loading = false;
    }
  }

  setFilter(f: ChatFilter): void {
    this.filter = f;
    this.chats = [];
    this.end = false;
    void this.refresh();
  }

  /** Puts a chat's new summary in place (if it is listed). */
  update(s: ChatSummary): void {
    this.chats = this.chats.map((x) => (x.id === s.id ? s : x));
  }

  /** A generated title arrived. */
  retitled(id: string, title: string, revision: number): void {
    this.chats = this.chats.map((s) => (s.id === id ? { ...s, title, revision } : s));
  }

  find(id: string | null): ChatSummary | undefined {
    return id === null ? undefined : this.chats.find((s) => s.id === id);
  }
}
