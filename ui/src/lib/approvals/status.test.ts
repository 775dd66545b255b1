import { describe, expect, it } from "vitest";
import { TOOL_STATUS_LABEL } from "./status";
import { TURN_STATUS_NOTE } from "../chats/status";

describe("status labels", () => {
  it("label every tool call status", () => {
    const all = ["pending_input", "awaiting_approval", "running", "completed", "failed", "denied", "cancelled"] as const;
    expect(Object.keys(TOOL_STATUS_LABEL).sort()).toEqual([...all].sort());
    for (const s of all) expect(TOOL_STATUS_LABEL[s]).toBeTruthy();
    expect(TOOL_STATUS_LABEL.awaiting_approval).toBe("Waiting for your approval");
  });

  it("decide a note for every turn status, and note only the ends that keep a partial answer quietly", () => {
    const all = ["pending", "streaming", "completed", "stopped", "failed", "interrupted"] as const;
    expect(Object.keys(TURN_STATUS_NOTE).sort()).toEqual([...all].sort());
    const noted = all.filter((s) => TURN_STATUS_NOTE[s] !== null);
    expect(noted).toEqual(["stopped", "interrupted"]);
    expect(TURN_STATUS_NOTE.stopped).toBe("Stopped — the partial answer is kept.");
  });
});
