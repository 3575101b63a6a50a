import type { JobsOptions } from "bullmq";
import type { z } from "zod";
import type { QueueName } from "./names.ts";

export interface JobDefinition<Name extends string, Queue extends QueueName, Schema extends z.ZodType> {
  readonly name: Name;
  readonly queue: Queue;
  readonly schema: Schema;
  /**
   * The job id, derived from the payload, so that adding the same job twice (a retried request,
   * two listener replicas) is a no-op in BullMQ. Ids must not contain ':' nor be all digits.
   */
  readonly jobId?: (data: z.output<Schema>) => string;
  /** Attempts, backoff and retention of this job type. */
  readonly options: JobsOptions;
}

export function defineJob<Name extends string, Queue extends QueueName, Schema extends z.ZodType>(
  definition: JobDefinition<Name, Queue, Schema>,
): JobDefinition<Name, Queue, Schema> {
  return definition;
}
