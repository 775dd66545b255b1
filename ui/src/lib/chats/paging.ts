// The open chat's older pages: one more page as the transcript scrolls up, all of them, or as
// many as it takes to reach a message (a search result); and the whole text of clipped parts.
import { api } from "../api";
import { prependHistory, unclip, type ChatView } from "./reducer";

export interface PagingContext {
  view: () => ChatView | null;
  setView: (v: ChatView) => void;
  fail: (e: unknown) => void;
}

export function paging(ctx: PagingContext, page: number) {
  async function older(limit = page) {
    const v = ctx.view();
    if (!v || !v.hasMore || !v.messages[0]) return;
    const h = await api.getHistory(v.chatId, v.messages[0].id, limit);
    performance.mark("parley:older");
    const now = ctx.view();
    if (now?.chatId === v.chatId) ctx.setView(prependHistory(now, h));
  }

  /** Loads older pages of `limit` messages while `more` says so and pages arrive. */
  async function olderWhile(more: (v: ChatView) => boolean, limit: number) {
    for (let v = ctx.view(); v && v.hasMore && more(v); v = ctx.view()) {
      const before = v.messages.length;
      await older(limit);
      if ((ctx.view()?.messages.length ?? before) === before) break;
    }
  }

  return {
    older,
    /** Every older message, in large pages (the transcript is virtualized: only data grows). */
    all: () => olderWhile(() => true, 1000),
    /** Older pages until message `id` is loaded. */
    until: (id: string) => olderWhile((v) => !v.messages.some((m) => m.id === id), 400),
    async unclip(messageId: string) {
      const v = ctx.view();
      if (!v) return;
      for (const key of Object.keys(v.clipped)) {
        const [id, index] = key.split(":");
        if (id !== messageId) continue;
        try {
          const part = await api.getPart(v.chatId, messageId, Number(index));
          const now = ctx.view();
          if (now?.chatId === v.chatId) ctx.setView(unclip(now, messageId, Number(index), part));
        } catch (e) {
          ctx.fail(e);
        }
      }
    },
  };
}
