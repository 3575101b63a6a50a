import { createConsumer } from "@recfleet/queues";
import { type Logger, withTimeout } from "@recfleet/runtime";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { handleCallback } from "./callbacks/handler.ts";
import type { MailerContext } from "./context.ts";
import { handleEnded } from "./handlers/ended.ts";
import { handleFailed } from "./handlers/failed.ts";
import { handleSaved } from "./handlers/saved.ts";

export interface MailerWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  logger: Logger;
}

/** The notifications-queue worker: recording-saved, recording-failed and stream-ended emails, tenant callbacks. */
export function createMailerWorker(context: MailerContext, options: MailerWorkerOptions): Worker {
  const worker = createConsumer(
    "notifications",
    {
      "recording-saved": (data, job, token) => handleSaved(context, data, job, token),
      "recording-failed": (data, job, token) => handleFailed(context, data, job, token),
      "stream-ended": (data, job, token) => handleEnded(context, data, job, token),
      callback: (data, job, token) => handleCallback(context, data, job, token),
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      logger: options.logger,
      concurrency: options.concurrency,
    },
  );
  worker.on("completed", (job, result) => {
    options.logger.info({ jobId: job.id, job: job.name, result }, "notification done");
  });
  worker.on("failed", (job, error) => {
    if (!job || error.name === "DelayedError") return;
    options.logger.warn(
      { jobId: job.id, job: job.name, attemptsMade: job.attemptsMade, err: { message: error.message } },
      "notification job failed",
    );
  });
  worker.on("error", (error) => options.logger.error({ err: { message: error.message } }, "worker error"));
  return worker;
}

/**
 * Stops taking jobs and lets in-flight sends finish for up to `graceMs`. Sends still running
 * then are aborted (`abortSends`): their jobs are delayed as transient failures, and the
 * worker closes once their handlers have put them back.
 */
export async function closeWorker(
  worker: Worker,
  graceMs: number,
  abortSends: () => void,
  logger: Logger,
): Promise<void> {
  const closing = worker.close();
  try {
    await withTimeout(closing, graceMs, "finishing in-flight sends");
  } catch {
    logger.warn({ graceMs }, "in-flight sends did not finish in time: aborting them; they will be retried");
    abortSends();
    try {
      await withTimeout(closing, 5000, "closing the worker after aborting sends");
    } catch {
      await worker.close(true);
    }
  }
}
