// An assistant taken from the composer's `/` menu: applied to the chat; the model it names, when
// that provider is configured, becomes the picker's choice.
import { api } from "../api";
import type { Assistant, ChatSummary, ProviderInfo } from "../types";

export async function applyToChat(
  chatId: string,
  id: string,
  assistants: Assistant[],
  providers: ProviderInfo[],
): Promise<{ summary: ChatSummary; choice: { provider: string; model: string } | null }> {
  const summary = await api.applyAssistant(chatId, id);
  const a = assistants.find((x) => x.id === id);
  const usable = a?.provider && a.model && providers.some((p) => p.name === a.provider);
  return { summary, choice: usable ? { provider: a.provider!, model: a.model! } : null };
}
