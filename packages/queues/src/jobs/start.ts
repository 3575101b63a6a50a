import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/**
 * Start the egress of a recording. A full egress fleet is not a failure: the recorder delays the
 * job itself (without spending attempts) until the start deadline; attempts cover crashes and
 * unexpected errors.
 */
export const startJob = defineJob({
  name: "start",
  queue: QUEUE.control,
  schema: z.strictObject({ recordingId }),
  jobId: (data) => `start-${data.recordingId}`,
  options: {
    attempts: 8,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
