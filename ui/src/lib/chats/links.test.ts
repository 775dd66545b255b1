import { describe, expect, it } from "vitest";
import { checkLink, textHost } from "./links";

describe("links before they open", () => {
  it("flags text that names another address than the destination", () => {
    const cases: [string, string, boolean][] = [
      ["https://evil.example/login", "https://bank.com/login", true],
      ["https://evil.example/login", "bank.com", true],
      ["https://evil.example/", "www.bank.com/account", true],
      ["https://xn--pple-43d.com/", "apple.com", true], // Cyrillic а in the destination
      ["https://apple.com/", "аpple.com", true], // Cyrillic а in the text
      ["https://bank.com/x", "https://bank.com/y", false],
      ["https://www.bank.com/x", "bank.com", false],
      ["https://docs.rs/serde", "the serde docs", false],
      ["https://docs.rs/serde", "click here", false],
      ["mailto:a@b.c", "a@b.c", false],
      ["https://a.com/", "v1.2.3", false],
    ];
    for (const [href, text, flagged] of cases) {
      expect(checkLink(href, text).mismatch !== null, `${href} / ${text}`).toBe(flagged);
    }
  });

  it("shows the whole destination with hidden characters marked and the real host", () => {
    const c = checkLink("https://exa\u200Bmple.com/a?b=1#c", "x");
    expect(c.shown).toContain("⟦U+200B⟧");
    const idn = checkLink("https://аpple.com/", "x");
    expect(idn.host).toBe("xn--pple-43d.com");
    expect(textHost("not an address")).toBeNull();
    expect(textHost("HTTPS://Bank.COM/x")).toBe("bank.com");
  });
});
