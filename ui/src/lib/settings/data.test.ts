import { describe, expect, it } from "vitest";
import { importText, progressText, restoredText } from "./data";

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

describe("import progress", () => {
  const p = { bytes_read: 3 * 1024 * 1024, bytes_total: 12 * 1024 * 1024, chats: 1200, merging: false };
  it("says how much of the file is read and how many chats", () => {
    expect(progressText(p, true)).toBe("Reading the file: 3.0 of 12.0 MB (25%), 1,200 chats so far…");
    expect(progressText({ ...p, chats: 1 }, false)).toContain("1 chat so far");
  });
  it("never says more than all of it, nor divides by an empty file", () => {
    expect(progressText({ ...p, bytes_read: p.bytes_total * 2 }, true)).toContain("(100%)");
    expect(progressText({ ...p, bytes_read: 0, bytes_total: 0 }, true)).toContain("(0%)");
  });
  it("says what the merge does: counting for a preview, adding for an import", () => {
    expect(progressText({ ...p, merging: true }, true)).toBe("Read 1,200 chats; counting what is new…");
    expect(progressText({ ...p, merging: true }, false)).toBe("Read 1,200 chats; adding what is new…");
  });
});
