import type { SmtpConfig } from "@recfleet/config";
import { type Logger, withTimeout } from "@recfleet/runtime";
import { createTransport } from "nodemailer";

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With angle brackets: `<saved.<id>@example.com>`. */
  messageId: string;
  /** Content-Language. */
  lang: string;
}

export interface SendResult {
  /** The server's final answer ("250 2.0.0 OK: queued as …"). */
  response: string;
  accepted: string[];
}

/** The mailer's one door to SMTP: a pooled nodemailer transport. */
export interface MailTransport {
  send(email: OutgoingEmail, signal?: AbortSignal): Promise<SendResult>;
  /** Opens a connection, greets (and logs in when configured); for readiness. */
  verify(timeoutMs: number): Promise<void>;
  /** Messages queued or being transmitted. */
  pending(): number;
  /** Closes idle connections now and busy ones after their message; `force` cuts those too. */
  close(force?: boolean): void;
}

type PoolLogFn = (entry: unknown, message?: string, ...args: unknown[]) => void;

/**
 * nodemailer's pool log, at warn and above, as pino lines. A pooled connection left idle times
 * out (socketTimeout) and the pool reports it as a warning with a stack: that is expected and
 * goes to debug. A timeout during a send also fails that send, which the delivery logs itself.
 */
export function poolLogger(logger: Logger): Record<
  "trace" | "debug" | "info" | "warn" | "error" | "fatal",
  PoolLogFn
> & {
  level: (level: string) => void;
} {
  const child = logger.child({ module: "smtp-pool" });
  const log =
    (level: "debug" | "warn" | "error" | "fatal"): PoolLogFn =>
    (entry, message, ...args) => {
      const code = (entry as { err?: { code?: unknown } } | undefined)?.err?.code;
      const at = code === "ETIMEDOUT" && level === "warn" ? "debug" : level;
      child[at](entry as object, message ?? "", ...args);
    };
  const ignore: PoolLogFn = () => {};
  return {
    level: () => {},
    trace: ignore,
    debug: log("debug"),
    info: ignore,
    warn: log("warn"),
    error: log("error"),
    fatal: log("fatal"),
  };
}

export function createMailTransport(config: SmtpConfig, logger?: Logger): MailTransport {
  const transporter = createTransport(
    {
      pool: true,
      host: config.host,
      port: config.port,
      secure: config.secure,
      maxConnections: config.poolSize,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
      ...(config.user !== "" ? { auth: { user: config.user, pass: config.pass } } : {}),
      // The messages are built in memory from our templates: never read files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: logger ? poolLogger(logger) : false,
    },
    { from: config.from },
  );
  const pool = transporter.transporter as unknown as { pendingCount?: () => number };
  return {
    async send(email, signal) {
      const info = await transporter.sendMail({
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        headers: {
          "Content-Language": email.lang,
          // RFC 3834: an automatic message; vacation responders must not answer it.
          "Auto-Submitted": "auto-generated",
        },
        ...(signal ? { signal } : {}),
      });
      return { response: info.response ?? "", accepted: (info.accepted ?? []).map(String) };
    },
    async verify(timeoutMs) {
      await withTimeout(transporter.verify(), timeoutMs, "SMTP verify");
    },
    pending: () => pool.pendingCount?.() ?? 0,
    close(force = false) {
      (transporter.transporter as unknown as { close(options?: { force?: boolean }): void }).close({ force });
    },
  };
}

/** `<kind.recordingId@domain>`, the domain taken from SMTP_FROM, so a re-send carries the same id. */
export function messageIdFor(kind: string, recordingId: string, from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const domain = address.split("@").pop()?.trim().toLowerCase() || "recfleet";
  return `<${kind}.${recordingId}@${domain}>`;
}

/**
 * Readiness probe for SMTP: verify() opens a connection each time, so a success is remembered
 * for `cacheMs` and probes every few seconds do not become a connection storm.
 */
export function smtpReadiness(transport: MailTransport, timeoutMs: number, cacheMs = 30_000) {
  let okUntil = 0;
  return async (): Promise<void> => {
    if (Date.now() < okUntil) return;
    await transport.verify(timeoutMs);
    okUntil = Date.now() + cacheMs;
  };
}
