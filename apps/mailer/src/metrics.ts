import { Counter, Histogram, type Registry } from "prom-client";

export interface MailerMetrics {
  /** Emails the SMTP server accepted, by kind (saved, failed, ended). */
  sent: Counter<"kind">;
  /** Send attempts that failed, by kind and class; transient ones are retried. */
  sendFailures: Counter<"kind" | "class">;
  /** Notifications given up on (recording marked notification_failed or annotated), by kind and class. */
  failed: Counter<"kind" | "class">;
  /** Jobs that completed without sending, by kind and reason (no_recipient, already_sent, …). */
  skipped: Counter<"kind" | "reason">;
  /** Time from handing a message to the pool to the server's answer, by kind and outcome. */
  sendDuration: Histogram<"kind" | "outcome">;
  /** Callback attempts, by event and outcome (delivered, retryable, rejected, refused). */
  callbackAttempts: Counter<"event" | "outcome">;
  /** Callbacks given up on, by event and reason (rejected, refused, retry_window). */
  callbacksGivenUp: Counter<"event" | "reason">;
}

export function createMailerMetrics(registry: Registry): MailerMetrics {
  return {
    sent: new Counter({
      name: "recfleet_mailer_emails_sent_total",
      help: "Emails accepted by the SMTP server, by kind (saved, failed, ended).",
      labelNames: ["kind"],
      registers: [registry],
    }),
    sendFailures: new Counter({
      name: "recfleet_mailer_send_failures_total",
      help: "Send attempts that failed, by kind and class (permanent, transient); transient ones are retried.",
      labelNames: ["kind", "class"],
      registers: [registry],
    }),
    failed: new Counter({
      name: "recfleet_mailer_notifications_failed_total",
      help: "Notifications given up on, by kind and class of the last failure (permanent, transient after the retry window).",
      labelNames: ["kind", "class"],
      registers: [registry],
    }),
    skipped: new Counter({
      name: "recfleet_mailer_notifications_skipped_total",
      help: "Notification jobs that completed without sending, by kind and reason.",
      labelNames: ["kind", "reason"],
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: "recfleet_mailer_send_duration_seconds",
      help: "Latency of one SMTP send through the pool, by kind and outcome (sent, permanent, transient).",
      labelNames: ["kind", "outcome"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    callbackAttempts: new Counter({
      name: "recfleet_mailer_callback_attempts_total",
      help: "Callback attempts, by event and outcome (delivered, retryable, rejected, refused).",
      labelNames: ["event", "outcome"],
      registers: [registry],
    }),
    callbacksGivenUp: new Counter({
      name: "recfleet_mailer_callbacks_given_up_total",
      help: "Callbacks given up on, by event and reason (rejected: a 4xx or redirect; refused: SSRF checks; retry_window).",
      labelNames: ["event", "reason"],
      registers: [registry],
    }),
  };
}
