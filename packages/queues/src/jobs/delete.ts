import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/**
 * Remove a deleted recording's files from storage and mark it deleted. While egress may still
 * write them (the recording is in progress or its file not yet seen) the recorder delays the job
 * without spending attempts; the reconciler finishes any deletion whose job was lost.
 */
export const deleteJob = defineJob({
  name: "delete",
  queue: QUEUE.control,
  schema: z.strictObject({ recordingId }),
  jobId: (data) => `delete-${data.recordingId}`,
  options: {
    attempts: 10,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
