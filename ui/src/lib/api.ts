// The window's side of the contract: generated commands, unwrapped into values or thrown
// ErrorInfo, and the event channel. Each function has its command's name (camelCase), which is
// also the core service method's name.
import { Channel } from "@tauri-apps/api/core";
import { commands } from "../bindings";
import type { AppFolder, ImportProgress, Rect } from "../bindings";
import type { ArtifactKind, Assistant, ChatFilter, ErrorInfo, Event, McpServerInput, ModelSettings, ModelWindow, Part, PromptDraft, Price, SearchBackendSetup, SearchQuery, ChatParams, Settings, Usage } from "./types";

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: ErrorInfo };

export class ApiError extends Error {
  constructor(public info: ErrorInfo) {
    super(info.message);
  }
}

async function unwrap<T>(p: Promise<Result<T>>): Promise<T> {
  const r = await p;
  if (r.status === "error") throw new ApiError(r.error);
  return r.data;
}

export const api = {
  createChat: () => unwrap(commands.createChat()),
  renameChat: (id: string, title: string, revision: number | null) => unwrap(commands.renameChat(id, title, revision)),
  deleteChat: (id: string, revision: number | null) => unwrap(commands.deleteChat(id, revision)),
  listChats: (filter: ChatFilter, limit: number, offset: number) => unwrap(commands.listChats(filter, limit, offset)),
  chatCounts: () => unwrap(commands.chatCounts()),
  getChat: (id: string) => unwrap(commands.getChat(id)),
  editMessage: (id: string, messageId: string, text: string, provider: string | null, model: string | null, revision: number) =>
    unwrap(commands.editMessage(id, messageId, text, { provider, model, system: null, confirm_read_only: false, revision })),
  regenerate: (id: string, messageId: string, provider: string | null, model: string | null, revision: number) =>
    unwrap(commands.regenerate(id, messageId, { provider, model, system: null, confirm_read_only: false, revision })),
  switchBranch: (id: string, messageId: string, revision: number) => unwrap(commands.switchBranch(id, messageId, revision)),
  rewind: (id: string, messageId: string, revision: number) => unwrap(commands.rewind(id, messageId, revision)),
  fork: (id: string, messageId: string) => unwrap(commands.fork(id, messageId)),
  deleteBranch: (id: string, messageId: string, revision: number) => unwrap(commands.deleteBranch(id, messageId, revision)),
  setPinned: (id: string, pinned: boolean, revision: number) => unwrap(commands.setPinned(id, pinned, revision)),
  setArchived: (id: string, archived: boolean, revision: number) => unwrap(commands.setArchived(id, archived, revision)),
  retitle: (id: string) => unwrap(commands.retitle(id)),
  getHistory: (id: string, before: string | null, limit: number) => unwrap(commands.getHistory(id, before, limit)),
  getPart: (id: string, messageId: string, index: number) => unwrap(commands.getPart(id, messageId, index)),
  /** `attachments`: the image and file parts attaching returned, sent after the text. */
  sendMessage: (id: string, text: string, provider: string | null, model: string | null, revision: number | null, attachments: Part[] = []) =>
    unwrap(commands.sendMessage(id, text, { provider, model, system: null, confirm_read_only: false, revision, attachments })),
  retryTurn: (id: string, provider: string | null, model: string | null) =>
    unwrap(commands.retryTurn(id, { provider, model, system: null, confirm_read_only: false })),
  stopTurn: (id: string) => unwrap(commands.stopTurn(id)),
  /** Side by side: `text` answered by each of `models` (2–4) at once, as versions of one answer. */
  compareModels: (id: string, text: string, models: { provider: string; model: string }[], revision: number | null, attachments: Part[] = []) =>
    unwrap(commands.compareModels(id, text, models, { provider: null, model: null, system: null, confirm_read_only: false, revision, attachments })),
  /** Stops one column of a side-by-side answer; the others go on. */
  stopColumn: (id: string, turnId: string) => unwrap(commands.stopColumn(id, turnId)),
  /** What an answer with this usage cost by the price table (null: the model has no price). */
  answerCost: (provider: string, model: string, usage: Usage) => unwrap(commands.answerCost(provider, model, usage)),
  listProviders: () => unwrap(commands.listProviders()),
  addProvider: (draft: Parameters<typeof commands.addProvider>[0]) => unwrap(commands.addProvider(draft)),
  // Provider changes are only proposed here: each returns the id of its change card, which Rust
  // opens in a window of its own, where the person confirms it; `waitChange` says how it ended
  // (components/settings/ChangeCard.svelte).
  updateProvider: (edit: Parameters<typeof commands.updateProvider>[0], key: string | null) =>
    unwrap(commands.updateProvider(edit, key)),
  removeProvider: (name: string) => unwrap(commands.removeProvider(name)),
  clearProviderKey: (name: string) => unwrap(commands.clearProviderKey(name)),
  waitChange: (id: string) => unwrap(commands.waitChange(id)),
  // MCP servers. Adding, importing, turning on, accepting a changed tool and removing are only
  // proposed (each returns its change card's id, like provider changes); the rest is direct.
  listMcpServers: () => unwrap(commands.listMcpServers()),
  addMcpServer: (input: McpServerInput, replace: boolean) => unwrap(commands.addMcpServer(input, replace)),
  removeMcpServer: (name: string) => unwrap(commands.removeMcpServer(name)),
  enableMcpServer: (name: string) => unwrap(commands.enableMcpServer(name)),
  disableMcpServer: (name: string) => unwrap(commands.disableMcpServer(name)),
  testMcpServer: (name: string) => unwrap(commands.testMcpServer(name)),
  signInMcpServer: (name: string) => unwrap(commands.signInMcpServer(name)),
  cancelMcpSignIn: (name: string) => commands.cancelMcpSignIn(name),
  signOutMcpServer: (name: string) => unwrap(commands.signOutMcpServer(name)),
  acceptMcpTool: (name: string, tool: string, hash: string) => unwrap(commands.acceptMcpTool(name, tool, hash)),
  markMcpToolReadOnly: (name: string, tool: string, hash: string) => unwrap(commands.markMcpToolReadOnly(name, tool, hash)),
  unmarkMcpToolReadOnly: (name: string, tool: string) => unwrap(commands.unmarkMcpToolReadOnly(name, tool)),
  listMcpPrompts: (chatId: string) => unwrap(commands.listMcpPrompts(chatId)),
  listMcpResources: (chatId: string) => unwrap(commands.listMcpResources(chatId)),
  attachMcpResource: (chatId: string, server: string, uri: string, job: string) => unwrap(commands.attachMcpResource(chatId, server, uri, job)),
  getMcpPrompt: (chatId: string, server: string, prompt: string, args: { name: string; value: string }[]) =>
    unwrap(commands.getMcpPrompt(chatId, server, prompt, args)),
  mcpServerLog: (name: string) => unwrap(commands.mcpServerLog(name)),
  // Local models and the built-in engine (Settings → Models).
  listLocalModels: () => unwrap(commands.listLocalModels()),
  pickLocalModel: () => unwrap(commands.pickLocalModel()),
  addFoundModel: (path: string) => unwrap(commands.addFoundModel(path)),
  removeLocalModel: (name: string) => unwrap(commands.removeLocalModel(name)),
  setLocalModelSettings: (name: string, settings: ModelSettings) => unwrap(commands.setLocalModelSettings(name, settings)),
  engineStatus: () => unwrap(commands.engineStatus()),
  engineLog: () => unwrap(commands.engineLog()),
  setEngineIdle: (seconds: number) => unwrap(commands.setEngineIdle(seconds)),
  stopEngine: () => unwrap(commands.stopEngine()),
  startModelDownload: (reference: string) => unwrap(commands.startModelDownload(reference)),
  pauseModelDownload: (id: string) => unwrap(commands.pauseModelDownload(id)),
  cancelModelDownload: (id: string) => unwrap(commands.cancelModelDownload(id)),
  modelDownloads: () => unwrap(commands.modelDownloads()),
  modelHub: () => unwrap(commands.modelHub()),
  modelCatalogue: () => unwrap(commands.modelCatalogue()),
  importMcpConfig: (text: string) => unwrap(commands.importMcpConfig(text)),
  checkConnection: (draft: Parameters<typeof commands.checkConnection>[0]) => unwrap(commands.checkConnection(draft)),
  listModels: (name: string, refresh: boolean) => unwrap(commands.listModels(name, refresh)),
  setChatParams: (id: string, params: ChatParams) => unwrap(commands.setChatParams(id, params)),
  useImportedSystem: (id: string, useIt: boolean) => unwrap(commands.useImportedSystem(id, useIt)),
  providerPresets: () => unwrap(commands.providerPresets()),
  discoverLocal: () => unwrap(commands.discoverLocal()),
  openLink: (url: string) => unwrap(commands.openLink(url)),
  appReady: () => unwrap(commands.appReady()),
  dataStatus: () => unwrap(commands.dataStatus()),
  aboutInfo: () => unwrap(commands.aboutInfo()),
  /** Opens Parley's data or log folder in the file manager (the window names which, not a path). */
  openFolder: (folder: AppFolder) => unwrap(commands.openFolder(folder)),
  diagnostics: () => unwrap(commands.diagnostics()),
  thirdPartyNotices: () => unwrap(commands.thirdPartyNotices()),
  /** The network requests Parley made (the outbound ledger), newest first. */
  listOutbound: (since: number | null, limit: number) => unwrap(commands.listOutbound(since, limit)),
  /** Updates (opt-in): where checks go, and whether this copy can install one. */
  updateSupport: () => unwrap(commands.updateSupport()),
  /** Asks the release server for its newest version (a request listed in Privacy). */
  checkUpdate: () => unwrap(commands.checkUpdate()),
  /** Downloads the update found and verifies its signature; resolves with how it ended. */
  downloadUpdate: () => unwrap(commands.downloadUpdate()),
  /** The download's progress, and what the last check (by the user or the daily one) found. */
  updateDownloadState: () => unwrap(commands.updateDownloadState()),
  cancelUpdateDownload: () => unwrap(commands.cancelUpdateDownload()),
  /** Installs the verified update and restarts Parley. */
  installUpdate: () => unwrap(commands.installUpdate()),
  /** Saved prompts with {{variables}} (Settings → Prompts, the composer's `/` menu). */
  listPrompts: () => unwrap(commands.listPrompts()),
  savePrompt: (draft: PromptDraft) => unwrap(commands.savePrompt(draft)),
  deletePrompt: (id: string) => unwrap(commands.deletePrompt(id)),
  /** The prompt's text with its variables filled in by the core. */
  fillPrompt: (id: string, values: [string, string][]) => unwrap(commands.fillPrompt(id, values)),
  /** Export and import through native dialogs: null when cancelled. */
  exportPrompts: () => unwrap(commands.exportPrompts()),
  importPrompts: () => unwrap(commands.importPrompts()),
  /** The chat's queue: messages typed while it answers, sent as its answers end. */
  listQueued: (chatId: string) => unwrap(commands.listQueued(chatId)),
  queueMessage: (chatId: string, text: string, provider: string | null, model: string | null) =>
    unwrap(commands.queueMessage(chatId, text, provider, model)),
  editQueued: (chatId: string, id: string, text: string) => unwrap(commands.editQueued(chatId, id, text)),
  removeQueued: (chatId: string, id: string) => unwrap(commands.removeQueued(chatId, id)),
  /** Ends the running answer at its next boundary and sends `text` (or the queued message `queued`). */
  sendNow: (chatId: string, text: string, queued: string | null, provider: string | null, model: string | null, attachments: Part[] = []) =>
    unwrap(commands.sendNow(chatId, text, queued, { provider, model, system: null, confirm_read_only: false, revision: null, attachments })),
  /** Shows a preview (HTML, or SVG) in its own window laid over `rect` of the page. */
  showArtifact: (kind: ArtifactKind, source: string, rect: Rect) => unwrap(commands.showArtifact(kind, source, rect)),
  /** The panel's body moved: the preview's window follows. */
  placeArtifact: (rect: Rect) => unwrap(commands.placeArtifact(rect)),
  /** Closes the preview's window, ending what it runs. */
  closeArtifact: () => unwrap(commands.closeArtifact()),
  /** Saves a block's text where the person picks; null when cancelled. */
  saveArtifact: (kind: ArtifactKind, source: string, number: number) => unwrap(commands.saveArtifact(kind, source, number)),
  /** Web search: the service the `web_search` tool uses (null: off). Setting it and turning it off are proposed: confirmed in the change card. */
  getSearchBackend: () => unwrap(commands.getSearchBackend()),
  setSearchBackend: (setup: SearchBackendSetup) => unwrap(commands.setSearchBackend(setup)),
  removeSearchBackend: () => unwrap(commands.removeSearchBackend()),
  testSearchBackend: () => unwrap(commands.testSearchBackend()),
  backUpNow: () => unwrap(commands.backUpNow()),
  restoreBackup: () => unwrap(commands.restoreBackup()),
  exportChats: (id: string | null, markdown: boolean, branch = false) => unwrap(commands.exportChats(id, markdown, branch)),
  search: (query: SearchQuery) => unwrap(commands.search(query)),
  usageReport: (since: number | null, includeImported: boolean) => unwrap(commands.usageReport(since, includeImported)),
  chatUsage: (id: string) => unwrap(commands.chatUsage(id)),
  getPrices: () => unwrap(commands.getPrices()),
  getContextWindows: () => unwrap(commands.getContextWindows()),
  saveContextWindows: (windows: ModelWindow[]) => unwrap(commands.saveContextWindows(windows)),
  /** What sending `text` (with `attachments`) would take of the model's context window. */
  estimateContext: (id: string, text: string, provider: string | null, model: string | null, attachments: Part[] = []) =>
    unwrap(commands.estimateContext(id, text, { provider, model, system: null, confirm_read_only: false, revision: null, attachments })),
  savePrices: (prices: Price[]) => unwrap(commands.savePrices(prices)),
  /** The file's reading is reported to `onProgress` (at most about ten times a second). */
  previewImport: (onProgress: (p: ImportProgress) => void) => unwrap(commands.previewImport(progressChannel(onProgress) as never)),
  confirmImport: (onProgress: (p: ImportProgress) => void) => unwrap(commands.confirmImport(progressChannel(onProgress) as never)),
  /** Stops the running import or preview; nothing is merged. */
  cancelImport: () => commands.cancelImport(),
  getSettings: () => unwrap(commands.getSettings()),
  saveSettings: (settings: Settings) => unwrap(commands.saveSettings(settings)),
  answerQuestion: (id: string, callId: string, answer: string | null) =>
    unwrap(commands.answerQuestion(id, callId, answer)),
  listGrants: () => unwrap(commands.listGrants()),
  revokeGrant: (id: number) => unwrap(commands.revokeGrant(id)),
  listTools: () => unwrap(commands.listTools()),
  listAssistants: () => unwrap(commands.listAssistants()),
  saveAssistant: (a: Assistant) => unwrap(commands.saveAssistant(a)),
  deleteAssistant: (id: string) => unwrap(commands.deleteAssistant(id)),
  applyAssistant: (chatId: string, assistantId: string) => unwrap(commands.applyAssistant(chatId, assistantId)),
  chooseWorkspace: (chatId: string) => unwrap(commands.chooseWorkspace(chatId)),
  clearWorkspace: (chatId: string) => unwrap(commands.clearWorkspace(chatId)),
  chooseAssistantWorkspace: (id: string, clear: boolean) => unwrap(commands.chooseAssistantWorkspace(id, clear)),
  /** Events arrive in batches, at most one per frame (the core merges consecutive deltas). */
  attachEvents: (onEvents: (batch: Event[]) => void) => {
    const ch = new Channel<Event[]>();
    ch.onmessage = onEvents;
    return unwrap(commands.attachEvents(ch as never));
  },
};

function progressChannel(onProgress: (p: ImportProgress) => void): Channel<ImportProgress> {
  const ch = new Channel<ImportProgress>();
  ch.onmessage = onProgress;
  return ch;
}

/** True for the error that says the chat changed since this window looked (a stale revision). */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.info.code === "conflict";
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.info.message;
  if (e && typeof e === "object" && "message" in e) return String((e as { message: unknown }).message);
  return String(e);
}
