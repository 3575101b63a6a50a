import type { JobData } from "@recfleet/queues";
import { storesObjects } from "@recfleet/recordings";
import type { Job } from "bullmq";
import type { MailerContext } from "../context.ts";
import { deliver, handleSendFailure } from "../delivery.ts";
import { maskAddress } from "../mask.ts";
import { renderEndedEmail } from "../render/index.ts";
import { failNotification, markNotified } from "./outcome.ts";

/**
 * `stream-ended`: a stream-only recording's egress ended. There is nothing in storage to wait
 * for, so its owner is told the stream ended (where it went, how each destination ended) and
 * the recording moves stopped → notified.
 */
export async function handleEnded(
  context: MailerContext,
  data: JobData<"stream-ended">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const { store, logger, metrics } = context;
  const skip = (reason: string, result: string) => {
    metrics.skipped.inc({ kind: "ended", reason });
    return result;
  };
  const recording = await store.get(data.recordingId);
  if (!recording) {
    logger.warn({ recordingId: data.recordingId }, "stream-ended: recording not found (expired or removed)");
    return skip("missing", "skipped: recording not found");
  }
  if (storesObjects(recording)) {
    // Only a stream-only recording ends here; one with files is emailed once they are saved.
    logger.warn({ recordingId: recording.id }, "stream-ended: the recording stores files");
    return skip("stores_files", "skipped: the recording stores files");
  }
  if (recording.status !== "stopped") {
    if (recording.status !== "notified") {
      logger.warn(
        { recordingId: recording.id, status: recording.status },
        "stream-ended: recording is not stopped",
      );
    }
    return skip(`status_${recording.status}`, `skipped: recording is ${recording.status}`);
  }
  if (recording.deleteRequested) {
    logger.info({ recordingId: recording.id }, "recording is being deleted: no email");
    return skip("deleted", "skipped: recording is being deleted");
  }
  if (!recording.notify) {
    await markNotified(context, recording, "no recipient: nothing to send");
    return skip("no_recipient", "skipped: no recipient");
  }
  const to = recording.notify.email;
  const result = await deliver(context, "ended", recording, to, job, token, async () => {
    const email = renderEndedEmail(recording, context.render);
    return { subject: email.subject, text: email.text, html: email.html, lang: email.lang };
  });
  if (result.outcome === "failed") {
    return handleSendFailure(context, "ended", recording, to, result.failure, job, token, {
      what: "stream-ended email",
      giveUp: (message) => failNotification(context, recording.id, message),
    });
  }
  await markNotified(context, recording, `stream end emailed to ${maskAddress(result.record.to)}`);
  if (result.outcome === "already-sent") {
    logger.info({ recordingId: recording.id, sentAt: result.record.at }, "email was already sent");
    return skip("already_sent", "already sent");
  }
  return "sent";
}
