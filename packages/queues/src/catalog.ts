import type { z } from "zod";
import { callbackJob } from "./jobs/callbacks.ts";
import { deleteJob } from "./jobs/delete.ts";
import { lateFileJob } from "./jobs/late-file.ts";
import { recordingFailedJob, recordingSavedJob, streamEndedJob } from "./jobs/notifications.ts";
import { reconcileJob } from "./jobs/reconcile.ts";
import { roomEventJob } from "./jobs/room-event.ts";
import { startJob } from "./jobs/start.ts";
import { stopJob } from "./jobs/stop.ts";
import { updateLayoutJob } from "./jobs/update-layout.ts";
import { updateStreamJob } from "./jobs/update-stream.ts";
import type { QueueName } from "./names.ts";

/** Every job of the fleet, by name: the single source of truth for producers and consumers. */
export const JOBS = {
  [startJob.name]: startJob,
  [stopJob.name]: stopJob,
  [deleteJob.name]: deleteJob,
  [lateFileJob.name]: lateFileJob,
  [updateLayoutJob.name]: updateLayoutJob,
  [updateStreamJob.name]: updateStreamJob,
  [roomEventJob.name]: roomEventJob,
  [reconcileJob.name]: reconcileJob,
  [recordingSavedJob.name]: recordingSavedJob,
  [recordingFailedJob.name]: recordingFailedJob,
  [streamEndedJob.name]: streamEndedJob,
  [callbackJob.name]: callbackJob,
} as const;

export type Jobs = typeof JOBS;
export type JobName = keyof Jobs;
export type JobData<N extends JobName> = z.output<Jobs[N]["schema"]>;
/** The job names that travel on queue Q. */
export type JobNameOf<Q extends QueueName> = {
  [N in JobName]: Jobs[N]["queue"] extends Q ? N : never;
}[JobName];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}
