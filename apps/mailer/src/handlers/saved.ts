import type { JobData } from "@recfleet/queues";
import { type Job, UnrecoverableError } from "bullmq";
import type { MailerContext } from "../context.ts";
import { type DeliveryResult, deliver, handleSendFailure } from "../delivery.ts";
import { NoFileError } from "../links.ts";
import { maskAddress } from "../mask.ts";
import { renderSavedEmail } from "../render/index.ts";
import { emailable, failNotification, markNotified } from "./outcome.ts";

/**
 * `recording-saved`: email the owner the download link, then move the recording saved → notified.
 * A recording without a recipient is notified at once (there was nobody to email).
 */
export async function handleSaved(
  context: MailerContext,
  data: JobData<"recording-saved">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const found = await emailable(context, "saved", "recording-saved", data.recordingId, "saved");
  if ("skipped" in found) return found.skipped;
  const { recording } = found;
  const { logger, metrics } = context;
  const to = recording.notify.email;
  let result: DeliveryResult;
  try {
    result = await deliver(context, "saved", recording, to, job, token, async () => {
      const now = new Date(context.now());
      const link = await context.links.linkFor(recording, now);
      const others = await context.links.otherLinks(recording, now);
      const email = renderSavedEmail(recording, link, context.render, others);
      return { subject: email.subject, text: email.text, html: email.html, lang: email.lang };
    });
  } catch (error) {
    if (!(error instanceof NoFileError)) throw error;
    await failNotification(context, recording.id, `no download link to send: ${error.message}`);
    metrics.failed.inc({ kind: "saved", class: "permanent" });
    throw new UnrecoverableError(error.message);
  }
  if (result.outcome === "failed") {
    return handleSendFailure(context, "saved", recording, to, result.failure, job, token, {
      what: "email",
      giveUp: (message) => failNotification(context, recording.id, message),
    });
  }
  // The address the email actually went to, which an earlier run recorded in its marker.
  await markNotified(context, recording, `emailed to ${maskAddress(result.record.to)}`);
  if (result.outcome === "already-sent") {
    logger.info(
      { recordingId: recording.id, sentAt: result.record.at },
      "email was already sent: not sending again",
    );
    metrics.skipped.inc({ kind: "saved", reason: "already_sent" });
    return "already sent";
  }
  return "sent";
}
