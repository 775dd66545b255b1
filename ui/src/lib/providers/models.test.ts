import { describe, expect, it } from "vitest";
import { capabilityText, decodeChoice, encodeChoice, filterModels, formatTokens, pickerGroups } from "./models";
import type { ModelInfo, ProviderInfo } from "../types";

const m = (id: string, extra: Partial<ModelInfo> = {}): ModelInfo => ({
  id, owned_by: null, display_name: null, context_window: null, max_output_tokens: null, tools: null, vision: null, reasoning: null, ...extra,
});
const p = (name: string, default_model: string | null): ProviderInfo => ({ name, kind: "openai_compatible", base_url: "http://x", default_model, has_key: false, key_warning: null });

describe("models", () => {
  it("says only the capabilities the provider reported", () => {
    expect(capabilityText(m("a", { context_window: 128000, tools: true, vision: false, reasoning: true }))).toBe("128k context · tools · reasoning");
    expect(capabilityText(m("b"))).toBe("");
    expect(formatTokens(1_048_576)).toBe("1M");
    expect(formatTokens(2_000_000)).toBe("2M");
    expect(formatTokens(512)).toBe("512");
  });

  it("searches ids and names by every word", () => {
    const list = [m("gpt-4o-mini"), m("claude-sonnet", { display_name: "Claude Sonnet 4.5" }), m("gpt-5")];
    expect(filterModels(list, "gpt mini").map((x) => x.id)).toEqual(["gpt-4o-mini"]);
    expect(filterModels(list, "SONNET 4.5").map((x) => x.id)).toEqual(["claude-sonnet"]);
    expect(filterModels(list, "  ")).toHaveLength(3);
  });

  it("groups models by provider and keeps the defaults and the current choice", () => {
    const groups = pickerGroups([p("local", "smol"), p("cloud", null)], { local: [m("big"), m("smol")] }, { provider: "cloud", model: "typed-by-hand" });
    expect(groups).toEqual([
      { provider: "local", models: ["big", "smol"] },
      { provider: "cloud", models: ["typed-by-hand"] },
    ]);
  });

  it("encodes a choice reversibly, even with separators in names", () => {
    expect(decodeChoice(encodeChoice("a b", "org/model:tag"))).toEqual({ provider: "a b", model: "org/model:tag" });
  });
});
