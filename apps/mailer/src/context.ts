import type { RecordingStore } from "@recfleet/recordings";
import type { Logger } from "@recfleet/runtime";
import type { CallbackContext } from "./callbacks/context.ts";
import type { DownloadLinks } from "./links.ts";
import type { MailerMetrics } from "./metrics.ts";
import type { RenderOptions } from "./render/index.ts";
import type { RetryPolicy } from "./retry.ts";
import type { SentMarkers } from "./sent-marker.ts";
import type { MailTransport } from "./transport.ts";

/** Everything the job handlers use, built once by main.ts (or a test). */
export interface MailerContext {
  store: RecordingStore;
  transport: MailTransport;
  links: DownloadLinks;
  markers: SentMarkers;
  metrics: MailerMetrics;
  logger: Logger;
  /** SMTP_FROM: its domain names the Message-IDs. */
  from: string;
  render: RenderOptions;
  retry: RetryPolicy;
  /** Longest one send may take, pool queueing included, before it is abandoned as transient. */
  sendTimeoutMs: number;
  /** Aborted when shutdown runs out of patience with in-flight sends. */
  shutdownSignal: AbortSignal;
  now: () => number;
  callbacks: CallbackContext;
}
