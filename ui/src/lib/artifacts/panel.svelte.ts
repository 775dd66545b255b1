// The preview panel's state: the versions of the artifact being looked at (every block of its
// kind in the chat's answers, in order) and which one is shown. Opened by a block's Preview
// button (the transcript), closed by its × or when another chat is opened.
import type { ArtifactKind, Message } from "../types";
import { artifactsOf, type Artifact } from "./find";

export interface Preview {
  chatId: string;
  kind: ArtifactKind;
  versions: Artifact[];
  index: number;
}

let shown = $state<Preview | null>(null);

export function preview(): Preview | null {
  return shown;
}

/** Opens the panel on the block `source` of answer `messageId`, with its kind's versions. */
export function openPreview(chatId: string, kind: ArtifactKind, source: string, messageId: string, messages: readonly Message[]) {
  let versions = artifactsOf(messages).filter((a) => a.kind === kind);
  let index = versions.findIndex((a) => a.messageId === messageId && a.source === source);
  if (index < 0) {
    // A block the list does not hold (a part still clipped): shown alone.
    versions = [{ kind, source, messageId }];
    index = 0;
  }
  shown = { chatId, kind, versions, index };
}

export function showVersion(index: number) {
  if (shown && index >= 0 && index < shown.versions.length) shown = { ...shown, index };
}

export function closePreview() {
  shown = null;
}

/** A block's Preview button was clicked in the transcript: opens it. */
export function previewClicked(button: Element, chatId: string, messages: readonly Message[]) {
  const attr = button.getAttribute("data-preview");
  const kind = attr === "html" || attr === "svg" || attr === "mermaid" ? attr : null;
  const block = button.closest(".code-block");
  const row = button.closest("[data-row]");
  if (!kind || !block || !row) return;
  const source = block.querySelector("pre code")?.textContent ?? "";
  openPreview(chatId, kind, source, row.getAttribute("data-row") ?? "", messages);
}
