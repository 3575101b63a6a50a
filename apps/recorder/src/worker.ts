import { createConsumer, JOBS } from "@recfleet/queues";
import { type Logger, withTimeout } from "@recfleet/runtime";
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { applyRoomEvent } from "./auto-record.ts";
import type { RecorderContext } from "./context.ts";
import { removeLateFile } from "./deletion.ts";
import { handleDelete } from "./handlers/delete.ts";
import { handleReconcile } from "./handlers/reconcile.ts";
import { handleStart } from "./handlers/start.ts";
import { handleStop } from "./handlers/stop.ts";
import { handleUpdateLayout } from "./handlers/update-layout.ts";
import { handleUpdateStream } from "./handlers/update-stream.ts";

export interface RecorderWorkerOptions {
  connection: Redis;
  /** A fail-fast connection for the reconciler's lock. */
  lockConnection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  logger: Logger;
}

/** Runs a handler with metrics and a log line per outcome. */
function instrumented<T>(
  context: RecorderContext,
  name: string,
  job: Job,
  run: () => Promise<T>,
): Promise<T> {
  const end = context.metrics.jobDuration.startTimer({ job: name });
  return run().then(
    (result) => {
      end();
      context.metrics.jobs.inc({ job: name, outcome: "completed" });
      context.logger.debug({ jobId: job.id, job: name, result }, "job done");
      return result;
    },
    (error: unknown) => {
      end();
      const outcome = (error as Error).name === "DelayedError" ? "delayed" : "failed";
      context.metrics.jobs.inc({ job: name, outcome });
      throw error;
    },
  );
}

/** The control-queue worker: start, stop, room-event and reconcile jobs, and the rest of the control queue. */
export function createRecorderWorker(context: RecorderContext, options: RecorderWorkerOptions): Worker {
  const worker = createConsumer(
    "control",
    {
      start: (data, job, token) =>
        instrumented(context, "start", job, () => handleStart(context, data, job, token)),
      stop: (data, job) => instrumented(context, "stop", job, () => handleStop(context, data)),
      delete: (data, job, token) =>
        instrumented(context, "delete", job, () => handleDelete(context, data, job, token)),
      "update-layout": (data, job) =>
        instrumented(context, "update-layout", job, () => handleUpdateLayout(context, data)),
      "update-stream": (data, job) =>
        instrumented(context, "update-stream", job, () => handleUpdateStream(context, data)),
      "room-event": (data, job) =>
        instrumented(context, "room-event", job, () => applyRoomEvent(context, data)),
      "late-file": (data, job) =>
        instrumented(context, "late-file", job, () => removeLateFile(context, data.recordingId, data.key)),
      reconcile: (_data, job) =>
        instrumented(context, "reconcile", job, () =>
          handleReconcile(context, options.lockConnection, options.prefix),
        ),
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      logger: options.logger,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      // A recorder killed mid-job makes its jobs stall; they are retried, not failed, a few times.
      maxStalledCount: 5,
    },
  );
  worker.on("failed", (job, error) => {
    if (!job || error.name === "DelayedError") return;
    options.logger.warn(
      { jobId: job.id, job: job.name, attemptsMade: job.attemptsMade, err: { message: error.message } },
      "job failed",
    );
  });
  worker.on("error", (error) => options.logger.error({ err: { message: error.message } }, "worker error"));
  return worker;
}

/** Registers the periodic reconcile job (idempotent: every recorder does it at start). */
export async function scheduleReconciler(context: RecorderContext, intervalMs: number): Promise<void> {
  await context.producer
    .queue("control")
    .upsertJobScheduler(
      "reconcile",
      { every: intervalMs },
      { name: "reconcile", data: {}, opts: JOBS.reconcile.options },
    );
}

/**
 * Stops taking jobs and lets active ones finish for up to `graceMs`; then closes anyway. A job
 * cut off keeps its lock until it expires and is then picked up by another recorder.
 */
export async function closeWorker(worker: Worker, graceMs: number, logger: Logger): Promise<void> {
  try {
    await withTimeout(worker.close(), graceMs, "finishing active jobs");
  } catch {
    logger.warn(
      { graceMs },
      "active jobs did not finish in time: closing; they will be retried by another recorder",
    );
    await worker.close(true);
  }
}
