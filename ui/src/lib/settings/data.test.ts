import { describe, expect, it } from "vitest";
import { exportedText, importText, restoredText } from "./data";

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

describe("import report", () => {
  const r = { chats_in_file: 2, messages_in_file: 5, span: [Date.UTC(2025, 0, 2), Date.UTC(2026, 10, 30)] as [number, number], chats_added: 1, messages_added: 3, dry_run: true };
  it("previews what the file holds and what it adds", () => {
    expect(importText(r)).toBe("The file holds 2 chats and 5 messages, 2025-01-02 to 2026-11-30. Importing adds 1 chat and 3 messages; nothing here changes.");
    expect(importText({ ...r, chats_added: 0, messages_added: 0 })).toContain("all of it is already here");
  });
  it("says what was added", () => {
    expect(importText({ ...r, dry_run: false, span: null })).toBe("Added 1 chat and 3 messages (the file holds 2 chats and 5 messages). Nothing was changed or removed.");
  });
});

describe("export report", () => {
  it("says where every chat went", () => {
    expect(exportedText({ file: "/x/all.json", left_out: [] })).toBe("Exported every chat to /x/all.json.");
    expect(exportedText({ file: "f", left_out: [] }, "“Trip”")).toBe("Exported “Trip” to f.");
  });
  it("names each chat it left out", () => {
    const bad = (id: string, title: string) => ({ id, title, why: "unknown turn status" });
    expect(exportedText({ file: "f", left_out: [bad("c1", "Notes")] })).toBe("Exported the chats that could be read to f. Left out 1 chat that could not be read: “Notes”.");
    expect(exportedText({ file: "f", left_out: [bad("c1", "A"), bad("c2", "")] })).toContain("Left out 2 chats that could not be read: “A”, “c2”.");
  });
});
