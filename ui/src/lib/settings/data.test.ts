import { describe, expect, it } from "vitest";
import { restoredText } from "./data";

describe("restore report", () => {
  it("says what was added, in words", () => {
    expect(restoredText({ file: "/b/x.db", chats: 1, messages: 2 })).toBe("Added 1 chat and 2 messages from /b/x.db. Nothing was removed.");
    expect(restoredText({ file: "f", chats: 3, messages: 1 })).toBe("Added 3 chats and 1 message from f. Nothing was removed.");
    expect(restoredText({ file: "f", chats: 0, messages: 12000 })).toContain("0 chats and 12,000 messages");
  });
  it("says when there was nothing to add", () => {
    expect(restoredText({ file: "f", chats: 0, messages: 0 })).toBe("Nothing to add from f: every chat and message in it is already here.");
  });
});
