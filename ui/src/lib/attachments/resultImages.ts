// The images a tool returned (an MCP server's result): the core stores them as image parts right
// after the call's result, so they show on the call's card; the message's own attachments are
// the rest. Pure.
import type { Part } from "../types";
import type { ImagePart } from "./chips";

/** Whether each part is an image a tool returned (one right after a result or such an image). */
export function resultImageFlags(parts: readonly Part[]): boolean[] {
  let afterResult = false;
  return parts.map((p) => {
    const image = afterResult && p.type === "image";
    afterResult = image || p.type === "tool_result";
    return image;
  });
}

/** The images the call `callId` returned, with their indexes in the message. */
export function resultImages(parts: readonly Part[], callId: string): { part: ImagePart; index: number }[] {
  const at = parts.findIndex((p) => p.type === "tool_result" && p.call_id === callId);
  if (at < 0) return [];
  const out: { part: ImagePart; index: number }[] = [];
  for (let i = at + 1; i < parts.length; i++) {
    const p = parts[i];
    if (p?.type !== "image") break;
    out.push({ part: p, index: i });
  }
  return out;
}
