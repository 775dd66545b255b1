// Opening a search result: its chat, in the branch that holds the message (the selected path
// is switched first when the message is in another version), scrolled to and marked.
import { api } from "../api";
import type { SearchHit } from "../types";

export interface JumpContext {
  openChat: (id: string) => Promise<void>;
  /** Loads older pages of the open chat until the message is in it, scrolls to it, marks it. */
  reveal: (messageId: string) => Promise<void>;
  say: (text: string) => void;
  fail: (e: unknown) => void;
}

export async function jumpTo(hit: SearchHit, ctx: JumpContext): Promise<void> {
  try {
    if (hit.message_id && !hit.on_selected_path) {
      // The chat's revision as it is now: it may not be in the list this window has loaded.
      const s = await api.getChat(hit.session_id);
      await api.switchBranch(hit.session_id, hit.message_id, s.revision);
      ctx.say("Showing the version of the chat that holds this message.");
    }
    await ctx.openChat(hit.session_id);
    if (hit.message_id) await ctx.reveal(hit.message_id);
  } catch (e) {
    ctx.fail(e);
  }
}
