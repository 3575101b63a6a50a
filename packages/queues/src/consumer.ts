import type { Logger } from "@recfleet/runtime";
import { type Job, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import type { Redis } from "ioredis";
import { isJobName, JOBS, type JobData, type JobNameOf } from "./catalog.ts";
import { describeIssues } from "./errors.ts";
import type { QueueName } from "./names.ts";

export type JobHandler<N extends JobNameOf<Q>, Q extends QueueName> = (
  data: JobData<N>,
  job: Job<JobData<N>, unknown, N>,
  token: string | undefined,
) => Promise<unknown>;

export type JobHandlers<Q extends QueueName> = { [N in JobNameOf<Q>]: JobHandler<N, Q> };

export interface ConsumerOptions extends Omit<WorkerOptions, "connection" | "prefix"> {
  connection: Redis;
  prefix: string;
  logger: Logger;
}

/**
 * A BullMQ worker for one queue whose handlers receive validated payloads. A job with an unknown
 * name or an invalid payload fails at once with UnrecoverableError: retrying cannot fix it.
 */
export function createConsumer<Q extends QueueName>(
  queue: Q,
  handlers: JobHandlers<Q>,
  options: ConsumerOptions,
): Worker {
  const { logger, connection, prefix, ...workerOptions } = options;
  const processor = async (job: Job, token?: string) => {
    const definition = isJobName(job.name) ? JOBS[job.name] : undefined;
    if (!definition || definition.queue !== queue) {
      logger.error({ jobId: job.id, jobName: job.name, queue }, "unknown job name: failing it without retry");
      throw new UnrecoverableError(`unknown job name "${job.name}" on queue "${queue}"`);
    }
    const parsed = definition.schema.safeParse(job.data);
    if (!parsed.success) {
      const problem = describeIssues(parsed.error.issues);
      logger.error(
        { jobId: job.id, jobName: job.name, problem },
        "invalid job payload: failing it without retry",
      );
      throw new UnrecoverableError(`invalid payload for job "${job.name}": ${problem}`);
    }
    const handler = handlers[job.name as JobNameOf<Q>] as unknown as (
      data: unknown,
      job: Job,
      token: string | undefined,
    ) => Promise<unknown>;
    return handler(parsed.data, job, token);
  };
  return new Worker(queue, processor, { ...workerOptions, connection, prefix });
}
