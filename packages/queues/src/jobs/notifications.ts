import { FAILURE_CODES, recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

// Transient SMTP trouble is retried for hours: 5 s doubling with jitter, 12 attempts ≈ 5.7 h.
const MAIL_RETRY = { attempts: 12, backoff: { type: "exponential", delay: 5000, jitter: 0.5 } } as const;

/**
 * The file of a recording is in storage: email its owner. The job id makes the listener's
 * replicas, re-deliveries and the reconciler converge on one email.
 */
export const recordingSavedJob = defineJob({
  name: "recording-saved",
  queue: QUEUE.notifications,
  schema: z.strictObject({ recordingId }),
  jobId: (data) => `saved-${data.recordingId}`,
  options: { ...MAIL_RETRY, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
});

/** A recording failed: tell its owner what happened. */
export const recordingFailedJob = defineJob({
  name: "recording-failed",
  queue: QUEUE.notifications,
  schema: z.strictObject({ recordingId, reason: z.enum(FAILURE_CODES) }),
  jobId: (data) => `failed-${data.recordingId}`,
  options: { ...MAIL_RETRY, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
});

/** A stream-only recording's egress ended (nothing to store): tell its owner the stream ended. */
export const streamEndedJob = defineJob({
  name: "stream-ended",
  queue: QUEUE.notifications,
  schema: z.strictObject({ recordingId }),
  jobId: (data) => `ended-${data.recordingId}`,
  options: { ...MAIL_RETRY, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
});
