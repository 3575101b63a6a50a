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
