// What each status of a tool call is called on its card. Exhaustive over the generated type: a
// new status in the protocol does not type-check until it has a label here.
import type { ToolCallStatus } from "../../bindings";

/** The label a tool card shows for its call's status. */
export const TOOL_STATUS_LABEL: Record<ToolCallStatus, string> = {
  pending_input: "Preparing…",
  awaiting_approval: "Waiting for your approval",
  running: "Running…",
  completed: "Done",
  failed: "Failed",
  denied: "Denied",
  cancelled: "Cancelled",
};
