export { escapeHtml } from "../common/html.ts";
export {
  type SmtpEmulator,
  type SmtpEmulatorOptions,
  startSmtpCatcher,
  startSmtpEmulator,
} from "./emulator.ts";
export type { FaultCounters } from "./faults.ts";
export type { FaultState } from "./http-api.ts";
export type { ArrivalDetails, Envelope, MessageFilter, StoredMessage } from "./message-store.ts";
export type { MailAddress, MessageSummary } from "./message-summary.ts";
export { compileRecipientPattern, InvalidPatternError, type RecipientPattern } from "./recipient-pattern.ts";
