import { describe, expect, it } from "vitest";
import { ARM_MS, armed, keyAction } from "./guard";

describe("approval dialog guard", () => {
  const shown = 1000;
  it("ignores every key until the user entered the dialog and it is armed", () => {
    const cases: [boolean, number, string, boolean, ReturnType<typeof keyAction>][] = [
      // not entered: keys typed into the composer never decide
      [false, shown + 10_000, "y", true, null],
      [false, shown + 10_000, "a", true, null],
      [false, shown + 10_000, "n", true, null],
      // entered but too soon
      [true, shown + 10, "y", true, null],
      [true, shown + ARM_MS - 1, "Y", true, null],
      // entered and armed
      [true, shown + ARM_MS, "y", true, "allow_once"],
      [true, shown + ARM_MS, "Y", true, "allow_once"],
      [true, shown + ARM_MS, "n", true, "deny"],
      [true, shown + ARM_MS, "s", true, "allow_session"],
      [true, shown + ARM_MS, "s", false, null],
      // "always" is never one key: it only opens the confirmation
      [true, shown + ARM_MS, "a", true, "confirm_always"],
      [true, shown + ARM_MS, "a", false, null],
      // nothing else acts (Enter, Space, Escape)
      [true, shown + ARM_MS, "Enter", true, null],
      [true, shown + ARM_MS, " ", true, null],
      [true, shown + ARM_MS, "Escape", true, null],
    ];
    for (const [userEntered, now, key, canGrant, want] of cases) {
      expect(keyAction(key, { shownAt: shown, userEntered }, now, canGrant), `${key} ${userEntered} ${now - shown}`).toBe(want);
    }
  });

  it("arms clicks only after the delay", () => {
    expect(armed({ shownAt: shown, userEntered: false }, shown)).toBe(false);
    expect(armed({ shownAt: shown, userEntered: false }, shown + ARM_MS - 1)).toBe(false);
    expect(armed({ shownAt: shown, userEntered: false }, shown + ARM_MS)).toBe(true);
  });
});
