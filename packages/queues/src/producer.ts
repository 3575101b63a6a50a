import { type Job, type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { JOBS, type JobData, type JobName } from "./catalog.ts";
import { waitUntilReady } from "./connection.ts";
import { InvalidJobPayloadError } from "./errors.ts";
import type { QueueName } from "./names.ts";

export type EnqueueOptions = Pick<JobsOptions, "delay" | "priority">;

/**
 * The only way the fleet adds jobs: validates the payload against the job's schema, applies its
 * job id and options, and adds it to its queue.
 */
export class JobProducer {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly connection: Redis;
  private readonly prefix: string;
  private readonly readyTimeoutMs: number;

  /**
   * @param connection a fail-fast ("producer") connection
   * @param readyTimeoutMs how long an enqueue waits for a (re)connecting Redis before it fails
   */
  constructor(connection: Redis, prefix: string, readyTimeoutMs = 2000) {
    this.connection = connection;
    this.prefix = prefix;
    this.readyTimeoutMs = readyTimeoutMs;
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.connection,
        prefix: this.prefix,
      });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Validates and adds a job. Adding a job whose id already exists returns the existing job. */
  async enqueue<N extends JobName>(name: N, data: JobData<N>, options: EnqueueOptions = {}): Promise<Job> {
    const definition = JOBS[name];
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success) throw new InvalidJobPayloadError(name, parsed.error.issues);
    const payload = parsed.data as JobData<N>;
    // The connection does not queue commands while Redis is away: wait briefly, then fail fast.
    await waitUntilReady(this.connection, this.readyTimeoutMs);
    const jobId =
      "jobId" in definition ? (definition.jobId as (d: JobData<N>) => string)(payload) : undefined;
    return this.queue(definition.queue).add(name, payload, {
      ...definition.options,
      ...options,
      ...(jobId ? { jobId } : {}),
    });
  }

  /** The id a job of this name and payload gets, to find or remove it later. */
  jobIdOf<N extends JobName>(name: N, data: JobData<N>): string | undefined {
    const definition = JOBS[name];
    return "jobId" in definition ? (definition.jobId as (d: JobData<N>) => string)(data) : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
