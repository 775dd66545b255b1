import { describe, expect, it } from "vitest";
import { render } from "@testing-library/svelte";
import App from "../App.svelte";
import { firstRunSteps } from "./onboarding";

describe("first run", () => {
  it("lists the steps in order, each with a detail", () => {
    const steps = firstRunSteps();
    expect(steps.map((s) => s.title)).toEqual(["Add a provider", "Save its key", "Start a chat"]);
    for (const s of steps) expect(s.detail.length).toBeGreaterThan(10);
  });

  it("renders the empty state", () => {
    const { getByText, container } = render(App);
    expect(getByText("Parley")).toBeTruthy();
    expect(container.querySelectorAll("li")).toHaveLength(3);
    expect(container.textContent).toContain("keychain");
    expect(container.querySelector("[data-testid=cli-hint]")?.textContent).toContain("parley ask");
  });
});
