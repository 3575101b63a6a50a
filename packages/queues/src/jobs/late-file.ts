import { createHash } from "node:crypto";
import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/**
 * An object of a recording already deleted or expired landed in storage (a late upload): remove
 * it, so that no file outlives its recording. Queued by the storage listener, which cannot
 * delete; the recorder removes the key only if it is one of the recording's own objects.
 */
export const lateFileJob = defineJob({
  name: "late-file",
  queue: QUEUE.control,
  schema: z.strictObject({ recordingId, key: z.string().min(1).max(1024) }),
  jobId: (data) =>
    `late-file-${data.recordingId}-${createHash("sha256").update(data.key).digest("hex").slice(0, 16)}`,
  options: {
    attempts: 10,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
