import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";

/** Periodic sweep that heals recordings whose webhooks were lost; run by a job scheduler. */
export const reconcileJob = defineJob({
  name: "reconcile",
  queue: QUEUE.control,
  schema: z.strictObject({}),
  options: {
    attempts: 1,
    // Each run is superseded by the next one: keep only a few for the dashboard.
    removeOnComplete: { count: 20 },
    removeOnFail: { count: 100 },
  },
});
