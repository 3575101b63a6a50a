import type { JobData } from "@recfleet/queues";
import { storesObjects } from "@recfleet/recordings";
import type { Job } from "bullmq";
import type { MailerContext } from "../context.ts";
import { deliver, handleSendFailure } from "../delivery.ts";
import { maskAddress } from "../mask.ts";
import { renderEndedEmail } from "../render/index.ts";
import { emailable, failNotification, markNotified } from "./outcome.ts";

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
  const found = await emailable(context, "ended", "stream-ended", data.recordingId, "stopped", (recording) =>
    // Only a stream-only recording ends here; one with files is emailed once they are saved.
    storesObjects(recording)
      ? { reason: "stores_files", result: "skipped: the recording stores files" }
      : undefined,
  );
  if ("skipped" in found) return found.skipped;
  const { recording } = found;
  const { logger, metrics } = context;
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
    metrics.skipped.inc({ kind: "ended", reason: "already_sent" });
    return "already sent";
  }
  return "sent";
}
