import { describe, expect, it } from "vitest";
import type { ImportAction, ImportReport } from "../../bindings";
import { IMPORT_ACTIONS, exportedText, importNotes, importText, progressText, restoredText } from "./data";

const report = (over: Partial<ImportReport> = {}): ImportReport => ({
  chats_in_file: 2,
  messages_in_file: 5,
  span: [Date.UTC(2025, 0, 2), Date.UTC(2026, 10, 30)],
  chats_added: 1,
  messages_added: 3,
  dry_run: true,
  existing_changed: 0,
  chats: [],
  chats_listed_more: 0,
  set_aside: [],
  system_prompts_inactive: 0,
  settings_removed: 0,
  usage_imported: 0,
  usage_dropped: 0,
  ...over,
});

describe("restore report", () => {
  const restored = (chats: number, messages: number, over: Partial<ImportReport> = {}) => ({
    file: "/b/x.db",
    report: report({ dry_run: false, chats_added: chats, messages_added: messages, ...over }),
  });
  it("says what was added, in words", () => {
    expect(restoredText(restored(1, 2))).toBe("Added 1 chat and 2 messages from /b/x.db. Nothing here was changed or removed.");
    expect(restoredText(restored(0, 12000))).toContain("0 chats and 12,000 messages");
  });
  it("says when there was nothing to add, and what was set aside", () => {
    expect(restoredText(restored(0, 0))).toBe("Nothing to add from /b/x.db: every chat in it is already here.");
    expect(restoredText(restored(1, 2, { set_aside: [{ chat: "c", reason: "r" }] }))).toContain("1 chat could not be taken");
  });
});

describe("import report", () => {
  it("previews what the file holds and what it adds", () => {
    expect(importText(report())).toBe("The file holds 2 chats and 5 messages, 2025-01-02 to 2026-11-30. Importing adds 1 chat and 3 messages; no chat here changes.");
    expect(importText(report({ chats_added: 0, messages_added: 0 }))).toContain("nothing of it is new here");
  });
  it("says what was added", () => {
    expect(importText(report({ dry_run: false, span: null }))).toBe("Added 1 chat and 3 messages (the file holds 2 chats and 5 messages). No chat here was changed.");
  });
  it("says what came in inactive or apart", () => {
    expect(importNotes(report())).toEqual([]);
    const notes = importNotes(report({ system_prompts_inactive: 2, settings_removed: 1, usage_imported: 3, usage_dropped: 1 }));
    expect(notes).toHaveLength(4);
    expect(notes[0]).toContain("2 system prompts from the file are kept inactive");
    expect(notes[1]).toContain("imported chats run no tools");
    expect(notes[2]).toContain("3 answers is kept as imported");
    expect(notes[3]).toContain("left out for 1 answer");
  });
  it("has words for every action", () => {
    const actions: ImportAction[] = ["added", "added_as_copy", "already_here"];
    for (const a of actions) expect(IMPORT_ACTIONS[a].length).toBeGreaterThan(0);
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
