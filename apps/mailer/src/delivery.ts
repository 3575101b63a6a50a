import type { Recording } from "@recfleet/recordings";
import { formatSpan } from "@recfleet/runtime";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { MailerContext } from "./context.ts";
import { maskAddresses } from "./mask.ts";
import { decideRetry } from "./retry.ts";
import type { NotificationKind, SentRecord } from "./sent-marker.ts";
import { classifySmtpError, type SmtpFailure } from "./smtp-errors.ts";
import { messageIdFor, type OutgoingEmail } from "./transport.ts";

/** The rendered parts of an email; the delivery adds recipient and Message-ID. */
export type EmailContent = Omit<OutgoingEmail, "to" | "messageId">;

export type DeliveryResult =
  | { outcome: "sent"; record: SentRecord }
  /** The marker says an earlier run got the server's 250: only the bookkeeping is left. */
  | { outcome: "already-sent"; record: SentRecord }
  | { outcome: "failed"; failure: SmtpFailure };

/** Puts the job back in the delayed set without spending an attempt. */
export async function retryLater(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/**
 * Sends one notification at most once as far as this side can tell: checks the sent marker,
 * claims the send (a stalled duplicate of this job waits), sends with a deterministic Message-ID
 * and writes the marker right after the server accepted the message.
 */
export async function deliver(
  context: MailerContext,
  kind: NotificationKind,
  recording: Recording,
  to: string,
  job: Job,
  token: string | undefined,
  build: () => Promise<EmailContent>,
): Promise<DeliveryResult> {
  const { markers, metrics } = context;
  const earlier = await markers.get(kind, recording.id);
  if (earlier) return { outcome: "already-sent", record: earlier };

  const owner = `${job.id}:${token ?? "none"}`;
  const claimMs = context.sendTimeoutMs + 10_000;
  const busyMs = await markers.claim(kind, recording.id, owner, claimMs);
  if (busyMs > 0) {
    context.logger.info(
      { recordingId: recording.id, kind, busyMs },
      "another run of this notification is sending: waiting for it",
    );
    return retryLater(job, token, busyMs);
  }
  try {
    // Checked again under the claim: the other run may have finished between the two reads.
    const justSent = await markers.get(kind, recording.id);
    if (justSent) return { outcome: "already-sent", record: justSent };
    const content = await build();
    const messageId = messageIdFor(kind, recording.id, context.from);
    const signal = AbortSignal.any([context.shutdownSignal, AbortSignal.timeout(context.sendTimeoutMs)]);
    const endTimer = metrics.sendDuration.startTimer({ kind });
    try {
      const result = await context.transport.send({ ...content, to, messageId }, signal);
      endTimer({ outcome: "sent" });
      const record: SentRecord = {
        at: new Date(context.now()).toISOString(),
        to,
        messageId,
        response: result.response,
      };
      await markers.mark(kind, recording.id, record);
      metrics.sent.inc({ kind });
      context.logger.info(
        { recordingId: recording.id, kind, messageId, response: result.response },
        "email accepted by the SMTP server",
      );
      return { outcome: "sent", record };
    } catch (error) {
      const failure = classifySmtpError(error);
      endTimer({ outcome: failure.class });
      metrics.sendFailures.inc({ kind, class: failure.class });
      context.logger.warn(
        { recordingId: recording.id, kind, class: failure.class, answer: failure.summary },
        "email not accepted",
      );
      return { outcome: "failed", failure };
    }
  } finally {
    await markers.release(kind, recording.id, owner).catch(() => undefined);
  }
}

export interface FailureBookkeeping {
  /** "email" or "failure email": how the timeline names this notification. */
  what: string;
  /** Records that the notification is given up on (saved: fail the recording; failed: annotate). */
  giveUp: (message: string) => Promise<void>;
}

/**
 * After a failed send: a permanent answer gives up at once (no retry can change it); a
 * transient one is retried with backoff, noted on the timeline, until the retry window is spent.
 */
export async function handleSendFailure(
  context: MailerContext,
  kind: NotificationKind,
  recording: Recording,
  to: string,
  failure: SmtpFailure,
  job: Job,
  token: string | undefined,
  bookkeeping: FailureBookkeeping,
): Promise<never> {
  const { what } = bookkeeping;
  if (failure.class === "permanent") {
    await bookkeeping.giveUp(maskAddresses(`${what} to ${to} refused: ${failure.summary}`));
    context.metrics.failed.inc({ kind, class: "permanent" });
    throw new UnrecoverableError(`${what} refused: ${failure.summary}`);
  }
  const notePrefix = `${what} not delivered yet`;
  const decision = decideRetry(recording, notePrefix, job.timestamp, context.now(), context.retry);
  if (!decision.retry) {
    await bookkeeping.giveUp(
      maskAddresses(
        `${what} to ${to} not delivered within ${formatSpan(context.retry.windowMs)}; last answer: ${failure.summary}`,
      ),
    );
    context.metrics.failed.inc({ kind, class: "transient" });
    throw new UnrecoverableError(`${what} not delivered within the retry window: ${failure.summary}`);
  }
  await context.store.annotate(
    recording.id,
    maskAddresses(`${notePrefix} (${failure.summary}); retrying in ${formatSpan(decision.delayMs)}`),
  );
  return retryLater(job, token, decision.delayMs);
}
