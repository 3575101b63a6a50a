import type { JobData } from "@recfleet/queues";
import { type Delivery, type DeliveryAttempt, type Recording, webhookIdOf } from "@recfleet/recordings";
import { backoffDelay, formatSpan } from "@recfleet/runtime";
import { type Job, UnrecoverableError } from "bullmq";
import { Webhook } from "standardwebhooks";
import type { MailerContext } from "../context.ts";
import { retryLater } from "../delivery.ts";
import { type ArtifactLink, type DownloadLink, NoFileError } from "../links.ts";
import { callbackPayload } from "./payload.ts";
import { type PostResult, postCallback } from "./post.ts";

/** A receiver's Retry-After is honoured up to this; a longer one is taken as this. */
export const MAX_RETRY_AFTER_MS = 6 * 60 * 60 * 1000;
const MAX_BACKOFF_MS = 60 * 60 * 1000;

type Outcome = DeliveryAttempt["outcome"];

/** How an attempt's result counts: network trouble, 408, 429 and 5xx are worth another try. */
export function classify(result: PostResult): {
  outcome: Outcome;
  statusCode: number | null;
  error: string | null;
} {
  if (result.kind === "refused") return { outcome: "refused", statusCode: null, error: result.reason };
  if (result.kind === "network") return { outcome: "retryable", statusCode: null, error: result.reason };
  const { statusCode, excerpt } = result;
  const answered = `answered ${statusCode}${excerpt ? `: ${excerpt}` : ""}`;
  if (statusCode >= 200 && statusCode < 300) return { outcome: "delivered", statusCode, error: null };
  if (statusCode >= 300 && statusCode < 400) {
    return { outcome: "rejected", statusCode, error: `answered ${statusCode}: redirects are not followed` };
  }
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) {
    return { outcome: "retryable", statusCode, error: answered };
  }
  return { outcome: "rejected", statusCode, error: answered };
}

/** The links of recording.ready while the objects exist: the main one, and every other. */
async function downloadsOf(
  context: MailerContext,
  recording: Recording,
  now: Date,
): Promise<{ main: DownloadLink | null; others: ArtifactLink[] }> {
  const hasFile =
    (recording.status === "saved" || recording.status === "notified") && !recording.deleteRequested;
  if (!hasFile) return { main: null, others: [] };
  try {
    return {
      main: await context.links.linkFor(recording, now),
      others: await context.links.otherLinks(recording, now),
    };
  } catch (error) {
    if (error instanceof NoFileError) return { main: null, others: [] };
    throw error;
  }
}

/**
 * `callback`: POST one event to the tenant's endpoint, signed per Standard Webhooks with one
 * webhook-id per event. Failures worth retrying are retried with backoff (and Retry-After) for
 * CALLBACKS_RETRY_WINDOW_MS; the rest are given up at once. Every attempt lands in the delivery
 * log the API shows.
 */
export async function handleCallback(
  context: MailerContext,
  data: JobData<"callback">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const { store, logger, metrics, callbacks } = context;
  const { recordingId, event } = data;
  const earlier = await callbacks.deliveries.get(recordingId, event);
  if (earlier && data.resend < earlier.resends) return "skipped: superseded by a resend";
  if (earlier && data.resend === earlier.resends && earlier.state !== "pending") {
    return `skipped: already ${earlier.state}`;
  }
  const recording = await store.get(recordingId);
  if (!recording) {
    logger.warn({ recordingId, event }, "callback: recording not found (expired or removed)");
    return "skipped: recording not found";
  }
  const delivery: Delivery = earlier
    ? { ...earlier, resends: Math.max(earlier.resends, data.resend) }
    : {
        id: webhookIdOf(recordingId, event),
        event,
        occurredAt: data.occurredAt,
        state: "pending",
        attempts: [],
        attemptCount: 0,
        failingSince: null,
        nextAttemptAt: null,
        resends: 0,
      };
  const at = new Date(context.now());
  const record = async (attempt: DeliveryAttempt, patch: Partial<Delivery>) => {
    metrics.callbackAttempts.inc({ event, outcome: attempt.outcome });
    await callbacks.deliveries.put(recordingId, {
      ...delivery,
      ...patch,
      attempts: [...delivery.attempts, attempt],
      attemptCount: delivery.attemptCount + 1,
    });
  };

  const target = callbacks.tenants.get(recording.tenant)?.callback;
  if (!target?.events.includes(event)) {
    // The tenant's callback was removed or narrowed since the event was queued.
    await record(
      {
        at: at.toISOString(),
        outcome: "refused",
        statusCode: null,
        error: "the tenant has no callback for this event",
        durationMs: 0,
      },
      { state: "failed", nextAttemptAt: null },
    );
    return "skipped: no callback for this event";
  }

  const downloads =
    event === "recording.ready" ? await downloadsOf(context, recording, at) : { main: null, others: [] };
  const body = JSON.stringify(
    callbackPayload(event, delivery.occurredAt, recording, downloads.main, downloads.others),
  );
  const headers = {
    "content-type": "application/json",
    "user-agent": "recfleet-callbacks/1",
    "webhook-id": delivery.id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(target.secret).sign(delivery.id, at, body),
  };
  const started = performance.now();
  const result = await postCallback({
    url: target.url,
    headers,
    body,
    timeoutMs: callbacks.config.timeoutMs,
    allowPrivate: callbacks.config.allowPrivateTargets,
    signal: context.shutdownSignal,
    ...(callbacks.resolve ? { resolve: callbacks.resolve } : {}),
  });
  const { outcome, statusCode, error } = classify(result);
  const attempt: DeliveryAttempt = {
    at: at.toISOString(),
    outcome,
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
  };
  const log = {
    recordingId,
    event,
    webhookId: delivery.id,
    outcome,
    statusCode,
    attempt: delivery.attemptCount + 1,
  };

  if (outcome === "delivered") {
    await record(attempt, { state: "delivered", nextAttemptAt: null, failingSince: null });
    logger.info(log, "callback delivered");
    return "delivered";
  }
  if (outcome === "refused" || outcome === "rejected") {
    await record(attempt, { state: "failed", nextAttemptAt: null });
    metrics.callbacksGivenUp.inc({ event, reason: outcome });
    logger.warn({ ...log, error }, "callback given up: not worth another try");
    throw new UnrecoverableError(`callback ${outcome}: ${error}`);
  }

  const failingSince = delivery.failingSince ?? attempt.at;
  const windowMs = callbacks.config.retryWindowMs;
  if (at.getTime() - Date.parse(failingSince) >= windowMs) {
    await record(
      { ...attempt, error: `${error}; not delivered within ${formatSpan(windowMs)}: given up` },
      { state: "failed", nextAttemptAt: null, failingSince },
    );
    metrics.callbacksGivenUp.inc({ event, reason: "retry_window" });
    logger.warn({ ...log, error }, "callback given up: retry window spent");
    throw new UnrecoverableError(`callback not delivered within ${formatSpan(windowMs)}: ${error}`);
  }
  const failures =
    1 + delivery.attempts.filter((a) => a.outcome === "retryable" && a.at >= failingSince).length;
  const backoff = backoffDelay(failures, {
    initialMs: callbacks.config.retryDelayMs,
    maxMs: MAX_BACKOFF_MS,
    jitter: 0.2,
  });
  const asked = result.kind === "answered" ? (result.retryAfterMs ?? 0) : 0;
  const delayMs = Math.min(Math.max(backoff, asked), MAX_RETRY_AFTER_MS);
  await record(attempt, { failingSince, nextAttemptAt: new Date(at.getTime() + delayMs).toISOString() });
  logger.info({ ...log, error, retryInMs: delayMs }, "callback not delivered: retrying later");
  return retryLater(job, token, delayMs);
}
