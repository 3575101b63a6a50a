import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_FAILED } from "../retention.ts";

/** Periodic sweep that heals recordings whose webhooks were lost; run by a job scheduler. */
export const reconcileJob = defineJob({
  name: "reconcile",
  queue: QUEUE.control,
  schema: z.strictObject({}),
  options: {
    attempts: 1,
    // Each run is superseded by the next one, so a completed run is dropped at once. Not a count:
    // BullMQ trims the queue's whole completed (failed) set to a count, start and stop jobs too.
    removeOnComplete: true,
    removeOnFail: KEEP_FAILED,
  },
});
