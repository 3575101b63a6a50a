import type { Recording } from "@recfleet/recordings";
import type { MailerContext } from "../context.ts";

/**
 * Moves a recording that was to be emailed (saved, or a stream-only one stopped) to
 * failed(notification_failed); a no-op when it moved on meanwhile.
 */
export async function failNotification(
  context: MailerContext,
  recordingId: string,
  message: string,
): Promise<void> {
  await context.store.transition(recordingId, "failed", {
    reason: message,
    error: { code: "notification_failed", message },
  });
}

/** Moves a recording to notified once its email went out (or there was nobody to email). */
export async function markNotified(
  context: MailerContext,
  recording: Recording,
  reason: string,
): Promise<void> {
  const result = await context.store.transition(recording.id, "notified", { reason });
  if (!result.ok && result.reason === "illegal" && result.recording.status !== "notified") {
    context.logger.warn(
      { recordingId: recording.id, status: result.recording.status },
      "email sent but the recording moved on meanwhile; left as it is",
    );
  }
}

/** A recording to email, or why its job completes without an email (the job's result). */
export type Emailable =
  | { recording: Recording & { notify: NonNullable<Recording["notify"]> } }
  | { skipped: string };

/**
 * What every "tell the owner it is over" job checks before it sends: the recording still
 * exists, is in the status the email is about (`notified` already: a duplicate job), is not
 * being deleted, and has a recipient — without one it moves to notified at once.
 */
export async function emailable(
  context: MailerContext,
  kind: "saved" | "ended",
  job: string,
  recordingId: string,
  wanted: Recording["status"],
  check: (recording: Recording) => { reason: string; result: string } | undefined = () => undefined,
): Promise<Emailable> {
  const { store, logger, metrics } = context;
  const skip = (reason: string, result: string) => {
    metrics.skipped.inc({ kind, reason });
    return { skipped: result };
  };
  const recording = await store.get(recordingId);
  if (!recording) {
    logger.warn({ recordingId }, `${job}: recording not found (expired or removed)`);
    return skip("missing", "skipped: recording not found");
  }
  const refused = check(recording);
  if (refused) {
    logger.warn({ recordingId, reason: refused.reason }, `${job}: ${refused.result}`);
    return skip(refused.reason, refused.result);
  }
  if (recording.status !== wanted) {
    if (recording.status !== "notified") {
      logger.warn({ recordingId, status: recording.status }, `${job}: recording is not ${wanted}`);
    }
    return skip(`status_${recording.status}`, `skipped: recording is ${recording.status}`);
  }
  if (recording.deleteRequested) {
    // Its owner deleted it: nothing to tell them, and no link to a file about to go.
    logger.info({ recordingId }, "recording is being deleted: no email");
    return skip("deleted", "skipped: recording is being deleted");
  }
  const { notify } = recording;
  if (!notify) {
    await markNotified(context, recording, "no recipient: nothing to send");
    logger.info({ recordingId }, "no recipient: nothing to send");
    return skip("no_recipient", "skipped: no recipient");
  }
  return { recording: { ...recording, notify } };
}
