import type { KeepJobs } from "bullmq";

const DAY_S = 24 * 60 * 60;

// Finished jobs are kept long enough to inspect on the dashboard and to de-duplicate by job id,
// then removed so Redis does not grow forever.
export const KEEP_COMPLETED: KeepJobs = { age: 7 * DAY_S, count: 10_000 };
export const KEEP_FAILED: KeepJobs = { age: 30 * DAY_S, count: 50_000 };
