// The message toolbar's actions (edit, regenerate, switch versions, branch, rewind, delete a
// branch) on top of the window's state. Every change goes through `change`, which carries the
// chat's revision and re-syncs the window on a conflict; what is shown is loaded again after a
// change to the tree, since the selected path decides it.
import { api } from "../api";
import type { MessageActions, ModelChoice } from "./actions";
import type { Message, ModelInfo, ProviderInfo } from "../types";

export interface SteerContext {
  currentId: () => string | null;
  /** The composer's model. */
  choice: () => ModelChoice | null;
  setChoice: (c: ModelChoice) => void;
  providers: () => ProviderInfo[];
  modelLists: () => Record<string, ModelInfo[] | undefined>;
  change: <T>(id: string, run: (revision: number) => Promise<T>) => Promise<T | undefined>;
  /** The open chat's summary again (its new revision). */
  refreshOpened: (id: string) => Promise<void>;
  /** The open chat's messages again (the selected path moved). */
  reloadOpen: (id: string) => Promise<void>;
  openChat: (id: string) => Promise<void>;
  refreshList: () => Promise<void>;
  say: (text: string) => void;
  fail: (e: unknown) => void;
}

/** Every configured model: the providers' listed models, and each default model. */
export function modelChoices(providers: ProviderInfo[], lists: Record<string, ModelInfo[] | undefined>): ModelChoice[] {
  const out: ModelChoice[] = [];
  for (const p of providers) {
    const ids = (lists[p.name] ?? []).map((m) => m.id);
    if (p.default_model && !ids.includes(p.default_model)) ids.unshift(p.default_model);
    for (const model of ids) out.push({ provider: p.name, model });
  }
  return out;
}

export function messageActions(ctx: SteerContext): MessageActions {
  /** Runs a change of the open chat's tree, then shows the chat as it now is. */
  const steer = <T>(run: (id: string, revision: number) => Promise<T>, after?: (r: T) => void) => {
    const id = ctx.currentId();
    if (!id) return;
    void ctx.change(id, (revision) => run(id, revision)).then((r) => {
      if (r === undefined) return;
      after?.(r);
      void ctx.reloadOpen(id);
    });
  };
  return {
    edit: async (m: Message, text: string) => {
      const id = m.session_id;
      const c = ctx.choice();
      const ok = await ctx.change(id, (revision) => api.editMessage(id, m.id, text, c?.provider ?? null, c?.model || null, revision));
      if (ok === undefined) return false;
      await ctx.refreshOpened(id);
      return true;
    },
    regenerate: (m, chosen) => {
      const id = m.session_id;
      const use = chosen ?? ctx.choice();
      if (chosen) ctx.setChoice(chosen);
      void ctx.change(id, (revision) => api.regenerate(id, m.id, use?.provider ?? null, use?.model || null, revision)).then((ok) => {
        if (ok !== undefined) void ctx.refreshOpened(id);
      });
    },
    switchTo: (messageId) => steer((id, revision) => api.switchBranch(id, messageId, revision)),
    continueWith: (m) => {
      if (m.provider && m.model) ctx.setChoice({ provider: m.provider, model: m.model });
      steer((id, revision) => api.switchBranch(id, m.id, revision));
    },
    fork: (messageId) => {
      const id = ctx.currentId();
      if (!id) return;
      void (async () => {
        try {
          const s = await api.fork(id, messageId);
          ctx.say(`Branched into a new chat: “${s.title}”.`);
          await ctx.refreshList();
          await ctx.openChat(s.id);
        } catch (e) {
          ctx.fail(e);
        }
      })();
    },
    rewind: (messageId) => steer((id, revision) => api.rewind(id, messageId, revision)),
    deleteBranch: (messageId) =>
      steer(
        (id, revision) => api.deleteBranch(id, messageId, revision),
        (n) => ctx.say(`Deleted ${n} message${n === 1 ? "" : "s"}.`),
      ),
    say: ctx.say,
    models: () => modelChoices(ctx.providers(), ctx.modelLists()),
  };
}
