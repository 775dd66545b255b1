// What a message's toolbar can do. App implements it (each action carries the chat's revision
// and re-syncs the window on a conflict); Transcript passes it down to every message.
import type { Message, StopReason } from "../types";
import type { TurnView } from "./reducer";

export interface ModelChoice {
  provider: string;
  model: string;
}

export interface MessageActions {
  /** Sends `text` as a new version of the user message `m`; false when it was refused. */
  edit: (m: Message, text: string) => Promise<boolean>;
  /** Answers again (a new version of the answer `m`), with `choice` or the composer's model. */
  regenerate: (m: Message, choice: ModelChoice | null) => void;
  /** Shows the version `id`. */
  switchTo: (id: string) => void;
  /** Side by side: the chat goes on from the answer `m`, with its model. */
  continueWith: (m: Message) => void;
  /** Copies the path up to `id` into a new chat. */
  fork: (id: string) => void;
  /** Ends the shown chat at `id`; what came after stays as a branch. */
  rewind: (id: string) => void;
  /** Deletes `id` and everything after it, on every branch. */
  deleteBranch: (id: string) => void;
  /** Tells the user something happened (a copy). */
  say: (text: string) => void;
  /** The models regenerate can use, as the composer lists them. */
  models: () => ModelChoice[];
}

const FINISH: Record<StopReason, string> = {
  end_turn: "finished",
  max_tokens: "output limit reached",
  tool_use: "asked for tools",
  content_filter: "filtered by the provider",
  stop_sequence: "stop sequence",
  tool_round_limit: "tool-round limit",
  steered: "ended for the next message (Send now)",
  other: "other",
};

/** The lines of an answer's details: model, provider, tokens, duration, finish reason. */
export function answerDetails(m: Message, t: TurnView | null): [string, string][] {
  const rows: [string, string][] = [];
  rows.push(["Model", m.model ?? t?.model ?? "—"]);
  rows.push(["Provider", m.provider ?? t?.provider ?? "—"]);
  const u = t?.usage;
  if (u) {
    const extra = [
      u.reasoning_tokens ? `${u.reasoning_tokens.toLocaleString()} reasoning` : null,
      u.cached_input_tokens ? `${u.cached_input_tokens.toLocaleString()} cached` : null,
    ].filter(Boolean);
    rows.push(["Tokens", `${u.input_tokens.toLocaleString()} in · ${u.output_tokens.toLocaleString()} out${extra.length ? ` (${extra.join(", ")})` : ""}`]);
  } else {
    rows.push(["Tokens", "not reported"]);
  }
  if (t?.startedAt && t.endedAt) rows.push(["Took", duration(t.endedAt - t.startedAt)]);
  const status = t?.status ?? "completed";
  const finish = status === "completed" ? (t?.stopReason ? FINISH[t.stopReason] : "finished") : status;
  rows.push(["Finish", finish]);
  return rows;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}
