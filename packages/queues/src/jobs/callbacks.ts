import { CALLBACK_EVENTS } from "@recfleet/config";
import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/**
 * POST one event of a recording to its tenant's callback endpoint. The handler retries the
 * receiver's failures itself (delaying the job, for CALLBACKS_RETRY_WINDOW_MS); BullMQ's attempts
 * cover only the handler's own trouble (Redis unreachable). The job id makes the dispatcher's
 * replicas and re-reads converge on one job per event; a resend asked through the API is another.
 */
export const callbackJob = defineJob({
  name: "callback",
  queue: QUEUE.notifications,
  schema: z.strictObject({
    recordingId,
    event: z.enum(CALLBACK_EVENTS),
    /** When the status changed. */
    occurredAt: z.iso.datetime(),
    /** 0 for the first delivery, then the resend number. */
    resend: z.number().int().nonnegative().default(0),
  }),
  jobId: (data) =>
    `callback-${data.event}-${data.recordingId}${data.resend > 0 ? `-resend-${data.resend}` : ""}`,
  options: {
    attempts: 5,
    backoff: { type: "exponential", delay: 5000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
