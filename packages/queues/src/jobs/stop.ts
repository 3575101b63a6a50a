import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/** Stop the egress of a recording (or cancel it when it has not started). */
export const stopJob = defineJob({
  name: "stop",
  queue: QUEUE.control,
  schema: z.strictObject({ recordingId, reason: z.string().max(200).optional() }),
  jobId: (data) => `stop-${data.recordingId}`,
  options: {
    attempts: 10,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
