import { afterEach, describe, expect, it, vi } from "vitest";
import { copyText } from "./copy";

/** The async Clipboard API as each case has it, and the copy command's answer. */
function clipboard(writeText: (t: string) => Promise<void>, commandWorks: boolean) {
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
  const exec = vi.fn(() => commandWorks);
  Object.defineProperty(document, "execCommand", { value: exec, configurable: true });
  return exec;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("copyText always ends, with a copy or a sentence", () => {
  it.each([
    ["the Clipboard API works", () => Promise.resolve(), true, false],
    ["the Clipboard API refuses; the copy command works", () => Promise.reject(new Error("NotAllowed")), true, true],
    ["the Clipboard API never answers; the copy command works", () => new Promise<void>(() => {}), true, true],
    ["the Clipboard API throws at once; the copy command works", () => { throw new Error("no"); }, true, true],
  ] as const)("%s", async (_name, write, works, usesCommand) => {
    const exec = clipboard(write as (t: string) => Promise<void>, works);
    await expect(copyText("hello", 20)).resolves.toBeUndefined();
    expect(exec).toHaveBeenCalledTimes(usesCommand ? 1 : 0);
    expect(document.querySelectorAll("textarea")).toHaveLength(0);
  });

  it.each([
    ["refuses", () => Promise.reject(new Error("NotAllowed"))],
    ["never answers", () => new Promise<void>(() => {})],
  ] as const)("the Clipboard API %s and the copy command fails: a sentence", async (_name, write) => {
    clipboard(write as (t: string) => Promise<void>, false);
    await expect(copyText("hello", 20)).rejects.toThrow("The clipboard is not available.");
    expect(document.querySelectorAll("textarea")).toHaveLength(0);
  });
});
