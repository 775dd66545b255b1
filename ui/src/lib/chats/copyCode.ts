// A code block's Copy button (rendered markdown: `[data-copy]` inside `.code-block`): its code
// to the clipboard, the button saying how it went.

export async function copyCode(button: Element): Promise<void> {
  const code = button.closest(".code-block")?.querySelector("code")?.textContent ?? "";
  try {
    await navigator.clipboard.writeText(code);
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  } catch {
    button.textContent = "Copy failed";
  }
}
