// What an ended answer says about how its turn ended. Exhaustive over the generated type: a new
// turn status does not type-check until it is decided here whether (and how) it is labelled.
import type { TurnStatus } from "../../bindings";

/**
 * The line under an answer whose turn ended this way; `null` where the answer says nothing
 * (it is still running, it completed, or — failed — the error banner speaks instead).
 */
export const TURN_STATUS_NOTE: Record<TurnStatus, string | null> = {
  pending: null,
  streaming: null,
  completed: null,
  stopped: "Stopped — the partial answer is kept.",
  failed: null,
  interrupted: "Interrupted — Parley closed while this answer was being written; what arrived is kept.",
};
