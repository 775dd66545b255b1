// Friendly names for the generated contract types (ui/src/bindings.ts). Data that comes from
// Rust has the `_Serialize` shape; arguments we send have the `_Deserialize` shape.
import type * as B from "../bindings";

export type Event = B.Event_Serialize;
export type EventMsg = B.EventMsg_Serialize;
export type Part = B.Part_Serialize;
export type Message = B.Message_Serialize;
export type TurnInfo = B.TurnInfo_Serialize;
export type Usage = B.Usage_Serialize;
export type SessionSummary = B.SessionSummary_Serialize;
export type SessionHistory = B.SessionHistory_Serialize;
export type ProviderInfo = B.ProviderInfo_Serialize;
export type ConnectionReport = B.ConnectionReport_Serialize;
export type ModelInfo = B.ModelInfo_Serialize;
export type ErrorInfo = B.ErrorInfo;
export type TurnStatus = B.TurnStatus;
export type ProviderKind = B.ProviderKind;
export type Settings = B.Settings;
export type SendOptions = B.SendOptions_Deserialize;
export type Theme = B.Theme;
export type ModelList = B.ModelList_Serialize;
export type ProviderPreset = B.ProviderPreset_Serialize;
export type LocalServer = B.LocalServer_Serialize;
export type SessionParams = B.SessionParams_Serialize;
export type ReasoningEffort = B.ReasoningEffort;
export type ToolRisk = B.ToolRisk;
export type StopReason = B.StopReason;
export type ApprovalDecision = B.ApprovalDecision_Deserialize;
export type Assistant = B.Assistant_Serialize;
export type Grant = B.Grant;
export type ToolInfo = B.ToolInfo;
export type ChatFilter = B.ChatFilter;
export type ChatCounts = B.ChatCounts;
export type ChatTree = B.ChatTree_Serialize;
