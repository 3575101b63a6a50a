import type { JobData } from "@recfleet/queues";
import type { Job } from "bullmq";
import type { MailerContext } from "../context.ts";
import { deliver, handleSendFailure } from "../delivery.ts";
import { maskAddress } from "../mask.ts";
import { type EmailedFailure, renderFailedEmail } from "../render/index.ts";

const FAILURE_EMAIL_SENT = "failure email sent to";

/**
 * `recording-failed`: tell the owner what went wrong and what they can do. The recording is
 * already failed (a final state), so the outcome is written on its timeline.
 */
export async function handleFailed(
  context: MailerContext,
  data: JobData<"recording-failed">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const { store, logger, metrics } = context;
  const skip = (reason: string, result: string) => {
    metrics.skipped.inc({ kind: "failed", reason });
    return result;
  };
  // notification_failed is about an email that could not be delivered: never email about it.
  if (data.reason === "notification_failed")
    return skip("not_emailed", "skipped: not emailed for this reason");
  const recording = await store.get(data.recordingId);
  if (!recording) {
    logger.warn(
      { recordingId: data.recordingId },
      "recording-failed: recording not found (expired or removed)",
    );
    return skip("missing", "skipped: recording not found");
  }
  if (recording.status !== "failed") {
    logger.warn(
      { recordingId: recording.id, status: recording.status },
      "recording-failed: recording is not failed",
    );
    return skip(`status_${recording.status}`, `skipped: recording is ${recording.status}`);
  }
  const reason = (recording.error?.code ?? data.reason) as EmailedFailure | "notification_failed";
  if (reason === "notification_failed") return skip("not_emailed", "skipped: not emailed for this reason");
  if (recording.deleteRequested) {
    // Its owner deleted it: nothing to tell them, and no link to a file about to go.
    logger.info({ recordingId: recording.id }, "recording is being deleted: no email");
    return skip("deleted", "skipped: recording is being deleted");
  }
  if (!recording.notify) {
    logger.info({ recordingId: recording.id }, "no recipient: no failure email");
    return skip("no_recipient", "skipped: no recipient");
  }
  const to = recording.notify.email;
  const result = await deliver(context, "failed", recording, to, job, token, async () => {
    const email = renderFailedEmail(recording, reason, context.render);
    return { subject: email.subject, text: email.text, html: email.html, lang: email.lang };
  });
  if (result.outcome === "failed") {
    return handleSendFailure(context, "failed", recording, to, result.failure, job, token, {
      what: "failure email",
      giveUp: async (message) => {
        await store.annotate(recording.id, message);
      },
    });
  }
  const note = `${FAILURE_EMAIL_SENT} ${maskAddress(result.record.to)}`;
  // A run that crashed after the marker but before this note leaves the note to the next run.
  const current = result.outcome === "already-sent" ? await store.get(recording.id) : recording;
  if (!current?.timeline.some((entry) => entry.reason === note)) await store.annotate(recording.id, note);
  if (result.outcome === "already-sent") {
    logger.info({ recordingId: recording.id, sentAt: result.record.at }, "failure email was already sent");
    return skip("already_sent", "already sent");
  }
  return "sent";
}
