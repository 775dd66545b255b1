import { describe, expect, it } from "vitest";
import { PARAM_LIMITS } from "../../bindings";
import { paramsFromForm, paramsSummary } from "./params";

const base = { system: "", temperature: "", topP: "", maxTokens: "", reasoning: "" as const };

describe("chat settings form", () => {
  it("empty fields mean provider defaults", () => {
    expect(paramsFromForm(base)).toEqual({ system: null, temperature: null, top_p: null, max_output_tokens: null, reasoning: null, workspace: null, tools: null, assistant: null });
  });
  it("parses numbers (a decimal comma too) and keeps the prompt as typed", () => {
    expect(paramsFromForm({ ...base, system: " Be brief. ", temperature: "0,7", topP: "0.9", maxTokens: "256", reasoning: "high" })).toEqual({
      system: " Be brief. ", temperature: 0.7, top_p: 0.9, max_output_tokens: 256, reasoning: "high", workspace: null, tools: null, assistant: null,
    });
  });
  it("refuses out-of-range values with a sentence", () => {
    expect(paramsFromForm({ ...base, temperature: "3" })).toMatch(/Temperature/);
    expect(paramsFromForm({ ...base, temperature: "warm" })).toMatch(/Temperature/);
    expect(paramsFromForm({ ...base, topP: "0" })).toMatch(/Top-p/);
    expect(paramsFromForm({ ...base, maxTokens: "1.5" })).toMatch(/whole number/);
    // The sentences and the system-prompt limit are the core's (PARAM_LIMITS in the bindings).
    expect(paramsFromForm({ ...base, topP: "1.5" })).toBe(PARAM_LIMITS.top_p.message);
    expect(paramsFromForm({ ...base, system: "x".repeat(PARAM_LIMITS.system_prompt_bytes) })).not.toBeTypeOf("string");
    expect(paramsFromForm({ ...base, system: "é".repeat(PARAM_LIMITS.system_prompt_bytes / 2 + 1) })).toBe(PARAM_LIMITS.system_prompt_message);
  });
  it("summarises what differs from the defaults", () => {
    expect(paramsSummary({ system: null, temperature: null, top_p: null, max_output_tokens: null, reasoning: null, workspace: null, tools: null, assistant: null })).toBe("Chat settings");
    expect(paramsSummary({ system: "x", temperature: 0, top_p: null, max_output_tokens: 64, reasoning: "low", workspace: null, tools: null, assistant: null })).toBe("system prompt · temp 0 · max 64 · reasoning low");
  });
});
