import { recordingIdSchema as recordingId } from "@recfleet/recordings";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

/**
 * Send a running room composite the layout its recording now asks for (UpdateLayout). The
 * handler sends the recording's current layout, not one carried here, so that two quick changes
 * handled out of order still end on the last one.
 */
export const updateLayoutJob = defineJob({
  name: "update-layout",
  queue: QUEUE.control,
  schema: z.strictObject({ recordingId, requestedAtMs: z.number().int().nonnegative() }),
  jobId: (data) => `layout-${data.recordingId}-${data.requestedAtMs}`,
  options: {
    // Retried while the egress' template has not joined its room yet (a few seconds at most).
    attempts: 6,
    backoff: { type: "exponential", delay: 1000, jitter: 0.3 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
