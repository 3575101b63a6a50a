import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

// Redacted stream URLs only: a job's payload is on the dashboard, a stream key never is.
const redactedUrls = z.array(z.string().max(2048)).max(10);

/**
 * Send a running egress the stream URLs a PATCH added or removed (UpdateStream). The payload
 * names them redacted; the handler takes the whole URLs from the recording and compares with
 * what egress reports, so a retry or two changes handled out of order never double a stream.
 */
export const updateStreamJob = defineJob({
  name: "update-stream",
  queue: QUEUE.control,
  schema: z.strictObject({
    recordingId,
    add: redactedUrls,
    remove: redactedUrls,
    requestedAtMs: z.number().int().nonnegative(),
  }),
  jobId: (data) => `streams-${data.recordingId}-${data.requestedAtMs}`,
  options: {
    // Retried while egress has not taken the pipeline yet (a few seconds at most).
    attempts: 6,
    backoff: { type: "exponential", delay: 1000, jitter: 0.3 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
