/**
 * Queue names. BullMQ keys are <REDIS_PREFIX>:<queue>:…, so renaming a queue orphans every job
 * already in it: drain the old queue before a rename ships.
 */
export const QUEUE = {
  /** start/stop of recordings and the reconciler; processed by apps/recorder. */
  control: "control",
  /** emails and callbacks about recordings; processed by apps/mailer. */
  notifications: "notifications",
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export const QUEUE_NAMES = Object.values(QUEUE) as QueueName[];
