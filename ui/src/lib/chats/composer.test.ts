import { describe, expect, it } from "vitest";
import { composerAction, sendable } from "./composer";

describe("composer keys", () => {
  it("Enter sends, Shift+Enter is a newline", () => {
    expect(composerAction({ key: "Enter", shiftKey: false }, false)).toBe("send");
    expect(composerAction({ key: "Enter", shiftKey: true }, false)).toBe("newline");
  });
  it("while an answer streams Enter queues, Ctrl/⌘+Enter sends now; Escape stops it", () => {
    expect(composerAction({ key: "Enter", shiftKey: false }, true)).toBe("queue");
    expect(composerAction({ key: "Enter", shiftKey: false, ctrlKey: true }, true)).toBe("steer");
    expect(composerAction({ key: "Enter", shiftKey: false, metaKey: true }, true)).toBe("steer");
    expect(composerAction({ key: "Enter", shiftKey: true }, true)).toBe("newline");
    expect(composerAction({ key: "Escape", shiftKey: false }, true)).toBe("stop");
    expect(composerAction({ key: "Escape", shiftKey: false }, false)).toBeNull();
  });
  it("IME composition never sends", () => {
    expect(composerAction({ key: "Enter", shiftKey: false, isComposing: true }, false)).toBeNull();
  });
  it("attachments alone are sendable; nothing at all is not", () => {
    expect(sendable("", 1)).toBe(true);
    expect(sendable("  \n", 2)).toBe(true);
    expect(sendable("", 0)).toBe(false);
  });
  it("whitespace-only text is not sendable", () => {
    expect(sendable("  \n\t")).toBe(false);
    expect(sendable(" hi ")).toBe(true);
  });
});
