import { describe, expect, it } from "vitest";
import { RISK_LABEL, RISK_SHORT } from "./risk";

describe("risk labels", () => {
  it("name every risk, running code as such", () => {
    const risks = ["read_only", "mutating", "network", "destructive", "runs_code"] as const;
    for (const r of risks) {
      expect(RISK_LABEL[r]).toBeTruthy();
      expect(RISK_SHORT[r]).toBeTruthy();
    }
    expect(Object.keys(RISK_LABEL).sort()).toEqual([...risks].sort());
    expect(RISK_LABEL.runs_code).toBe("Runs code");
    expect(RISK_SHORT.runs_code).toBe("runs code");
  });
});
