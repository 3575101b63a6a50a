// What an SMTP failure means for the notification: classified once, here, and nowhere else.

export type FailureClass = "permanent" | "transient";

export interface SmtpFailure {
  class: FailureClass;
  /** For the timeline and logs: the server's answer when there is one ("550 5.1.1 …"). */
  summary: string;
  responseCode?: number;
}

interface NodemailerLikeError {
  name?: string;
  message?: string;
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
  cause?: unknown;
}

// Errors without an SMTP reply that retrying cannot fix: missing or unusable credentials, a bad
// configuration, an envelope nodemailer refuses to build (no valid recipient).
const PERMANENT_CODES = new Set([
  "EAUTH",
  "ENOAUTH",
  "ECONFIG",
  "EENVELOPE",
  "EMAXRECIPIENTS",
  "EREQUIRETLS",
]);

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 300);
}

/**
 * nodemailer 10 sets `permanent` from the reply class on every error that carries a reply (5xx
 * except 503 → true, 4xx → false). Errors without a reply (connection refused, timeouts, a
 * dropped connection) are transient unless their code says the setup itself is wrong.
 */
export function classifySmtpError(error: unknown): SmtpFailure {
  const err = (typeof error === "object" && error !== null ? error : {}) as NodemailerLikeError;
  const responseCode = typeof err.responseCode === "number" ? err.responseCode : undefined;
  if (typeof err.permanent === "boolean" && err.response) {
    return {
      class: err.permanent ? "permanent" : "transient",
      summary: oneLine(err.response),
      ...(responseCode ? { responseCode } : {}),
    };
  }
  if (err.code === "EABORT") {
    const cause = err.cause as { name?: string } | undefined;
    const summary =
      cause?.name === "TimeoutError" ? "no answer from the SMTP server in time" : "sending was interrupted";
    return { class: "transient", summary };
  }
  const code = err.originalCode ? `${err.code} (${err.originalCode})` : (err.code ?? err.name ?? "Error");
  const summary = oneLine(`${code}: ${err.message ?? String(error)}`);
  if (err.code && PERMANENT_CODES.has(err.code) && responseCode === undefined) {
    return { class: "permanent", summary };
  }
  return { class: "transient", summary, ...(responseCode ? { responseCode } : {}) };
}
