export {
  type RenderedEmail,
  type RenderOptions,
  renderEndedEmail,
  renderFailedEmail,
  renderSavedEmail,
} from "./emails.ts";
export { formatDateTime, formatDuration, formatSize } from "./format.ts";
export { escapeHtml, html, SafeHtml, safeHref } from "./html.ts";
export { type ResolvedLocale, resolveLocale } from "./locale.ts";
export { LANGUAGES, type Language, WORDINGS } from "./locales/index.ts";
export type { EmailedFailure, Wording } from "./wording.ts";
