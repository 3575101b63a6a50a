import type { QueueName } from "@recfleet/queues";
import type { RecordingStore } from "@recfleet/recordings";
import { type Logger, withTimeout } from "@recfleet/runtime";
import type { Queue } from "bullmq";
import { Gauge, Histogram, type Registry } from "prom-client";

/** The BullMQ job states reported per queue. */
export const JOB_STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "completed",
  "failed",
] as const;

export interface ApiMetricsOptions {
  registry: Registry;
  queues: Record<QueueName, Queue>;
  store: RecordingStore;
  /** The store's connection. */
  logger: Logger;
  /** Longest a scrape waits for Redis; past it the Redis-backed series are left out. */
  collectTimeoutMs: number;
}

interface Snapshot {
  jobs: (readonly [string, Record<string, number>])[] | undefined;
  recordings: Record<string, number> | undefined;
}

export interface ApiMetrics {
  observeRequest(labels: { method: string; route: string; status: number }, seconds: number): void;
}

/**
 * The API's Prometheus series. Queue and recording counts are read from Redis at scrape time, so
 * they are exact whichever replica is scraped; a scrape never hangs on a Redis that is away.
 */
export function createApiMetrics(options: ApiMetricsOptions): ApiMetrics {
  const { registry, queues, store, logger, collectTimeoutMs } = options;
  const duration = new Histogram({
    name: "recfleet_http_request_duration_seconds",
    help: "Duration of HTTP requests by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // prom-client collects every metric in parallel: the three Redis-backed gauges share one read.
  let inflight: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot> => {
    inflight ??= readSnapshot().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  const readSource = async <T>(source: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(read(), collectTimeoutMs, `reading ${source} for metrics`);
    } catch (error) {
      logger.warn({ source, err: { message: (error as Error).message } }, "metrics source unavailable");
      return undefined;
    }
  };
  const readSnapshot = async (): Promise<Snapshot> => {
    const [jobs, recordings] = await Promise.all([
      readSource("queues", () =>
        Promise.all(
          Object.entries(queues).map(
            async ([name, queue]) => [name, await queue.getJobCounts(...JOB_STATES)] as const,
          ),
        ),
      ),
      readSource("recordings", () => store.countByStatus()),
    ]);
    return { jobs, recordings };
  };
  new Gauge({
    name: "recfleet_metrics_source_up",
    help: "1 when this scrape could read the Redis-backed source (queues, recordings), else 0.",
    labelNames: ["source"] as const,
    registers: [registry],
    async collect() {
      const { jobs, recordings } = await snapshot();
      this.set({ source: "queues" }, jobs ? 1 : 0);
      this.set({ source: "recordings" }, recordings ? 1 : 0);
    },
  });
  new Gauge({
    name: "recfleet_queue_jobs",
    help: "BullMQ jobs by queue and state, read at scrape time.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      const { jobs } = await snapshot();
      this.reset();
      for (const [queue, byState] of jobs ?? []) {
        for (const state of JOB_STATES) this.set({ queue, state }, byState[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: "recfleet_recordings",
    help: "Recordings in Redis by status, read at scrape time.",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      const { recordings } = await snapshot();
      this.reset();
      for (const [status, count] of Object.entries(recordings ?? {})) this.set({ status }, count);
    },
  });
  return {
    observeRequest: (labels, seconds) =>
      duration.observe(
        { method: labels.method, route: labels.route, status: String(labels.status) },
        seconds,
      ),
  };
}
