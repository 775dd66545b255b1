// What each risk of a tool call is called, wherever a tool or a call is shown. Exhaustive over
// the generated type: a new risk in the protocol does not type-check until it has a label here.
import type { ToolRisk } from "../../bindings";

/** The label of a call's risk (the approval card in Rust uses the same words). */
export const RISK_LABEL: Record<ToolRisk, string> = {
  read_only: "Reads files",
  mutating: "Changes files",
  network: "Uses the network",
  destructive: "Can delete or run anything",
  runs_code: "Runs code",
};

/** The short form a list of tools shows. */
export const RISK_SHORT: Record<ToolRisk, string> = {
  read_only: "reads",
  mutating: "changes files",
  network: "network",
  destructive: "runs commands",
  runs_code: "runs code",
};
