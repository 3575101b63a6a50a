import { createLogger } from "@recfleet/runtime";
import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { type Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkEvictionPolicy,
  createConsumer,
  createRedisConnection,
  InvalidJobPayloadError,
  JobProducer,
  QUEUE,
  waitUntilReady,
} from "../src/index.ts";

const logger = createLogger("test", { level: "silent" });
const recordingId = "0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

async function connections(prefix: string) {
  const config = { url: redis.url, prefix, tls: false, commandTimeoutMs: 2000 };
  const producer = createRedisConnection("producer", config, logger);
  await waitUntilReady(producer, 5000);
  return { config, producer, worker: createRedisConnection("worker", config, logger) };
}

function waitForFailure(events: QueueEvents, jobId: string): Promise<string> {
  return new Promise((resolve) => {
    events.on("failed", (event) => {
      if (event.jobId === jobId) resolve(event.failedReason);
    });
  });
}

describe("JobProducer", () => {
  it("adds a validated job with the id derived from the payload, once", async () => {
    const prefix = uniquePrefix();
    const { producer } = await connections(prefix);
    const jobs = new JobProducer(producer, prefix);
    const first = await jobs.enqueue("start", { recordingId });
    const second = await jobs.enqueue("start", { recordingId });
    expect(first.id).toBe(`start-${recordingId}`);
    expect(second.id).toBe(first.id);
    const queue = new Queue(QUEUE.control, { connection: producer, prefix });
    expect(await queue.getJobCounts("wait")).toEqual({ wait: 1 });
    const stored = await queue.getJob(`start-${recordingId}`);
    expect(stored?.name).toBe("start");
    expect(stored?.data).toEqual({ recordingId });
    expect(stored?.opts.attempts).toBe(8);
    expect(stored?.opts.backoff).toEqual({ type: "exponential", delay: 1000, jitter: 0.5 });
    // Keys live under our prefix, which is what the KEDA scaler and the dashboard rely on.
    expect(await producer.exists(`${prefix}:control:wait`)).toBe(1);
    await jobs.close();
    producer.disconnect();
  });

  it("rejects an invalid payload before anything reaches Redis", async () => {
    const prefix = uniquePrefix();
    const { producer } = await connections(prefix);
    const jobs = new JobProducer(producer, prefix);
    await expect(jobs.enqueue("start", { recordingId: "not-a-uuid" })).rejects.toThrow(
      InvalidJobPayloadError,
    );
    await expect(
      // @ts-expect-error: the reason must be one of the failure codes
      jobs.enqueue("recording-failed", { recordingId, reason: "bored" }),
    ).rejects.toThrow(/invalid payload for job "recording-failed": reason/);
    await expect(
      // @ts-expect-error: unknown fields are refused
      jobs.enqueue("stop", { recordingId, extra: true }),
    ).rejects.toThrow(InvalidJobPayloadError);
    expect(await producer.keys(`${prefix}:*`)).toEqual([]);
    await jobs.close();
    producer.disconnect();
  });
});

describe("createConsumer", () => {
  it("hands validated payloads to the handler of the job's name", async () => {
    const prefix = uniquePrefix();
    const { producer, worker: workerConnection } = await connections(prefix);
    const jobs = new JobProducer(producer, prefix);
    const received: { name: string; data: unknown }[] = [];
    const { promise: done, resolve } = Promise.withResolvers<void>();
    const worker = createConsumer(
      QUEUE.notifications,
      {
        "recording-saved": async (data, job: Job) => {
          received.push({ name: job.name, data });
          resolve();
        },
        "recording-failed": async () => {},
        "stream-ended": async () => {},
        callback: async () => {},
      },
      { connection: workerConnection, prefix, logger },
    );
    await jobs.enqueue("recording-saved", { recordingId });
    await done;
    expect(received).toEqual([{ name: "recording-saved", data: { recordingId } }]);
    await worker.close();
    await jobs.close();
    producer.disconnect();
  });

  it("fails an invalid payload at once with UnrecoverableError, without retry", async () => {
    const prefix = uniquePrefix();
    const { producer, worker: workerConnection } = await connections(prefix);
    // A producer that bypasses the catalog (an old deploy, a hand-made job on the dashboard).
    const raw = new Queue(QUEUE.control, { connection: producer, prefix });
    const events = new QueueEvents(QUEUE.control, {
      connection: createRedisConnection("worker", {
        url: redis.url,
        prefix,
        tls: false,
        commandTimeoutMs: 2000,
      }),
      prefix,
    });
    await events.waitUntilReady();
    let handled = 0;
    const worker = createConsumer(
      QUEUE.control,
      {
        start: async () => {
          handled += 1;
        },
        stop: async () => {
          handled += 1;
        },
        "room-event": async () => {
          handled += 1;
        },
        reconcile: async () => {
          handled += 1;
        },
        delete: async () => {
          handled += 1;
        },
        "late-file": async () => {
          handled += 1;
        },
        "update-layout": async () => {
          handled += 1;
        },
        "update-stream": async () => {
          handled += 1;
        },
      },
      { connection: workerConnection, prefix, logger },
    );
    const bad = await raw.add("start", { recordingId: 42 }, { attempts: 5, backoff: 10 });
    const reason = await waitForFailure(events, bad.id ?? "");
    expect(reason).toMatch(/invalid payload for job "start": recordingId/);
    const unknown = await raw.add("explode", {}, { attempts: 5 });
    expect(await waitForFailure(events, unknown.id ?? "")).toBe(
      'unknown job name "explode" on queue "control"',
    );
    const failed = await raw.getJob(bad.id ?? "");
    expect(failed?.attemptsMade).toBe(1);
    expect(await failed?.getState()).toBe("failed");
    expect(handled).toBe(0);
    await worker.close();
    await events.close();
    await raw.close();
    producer.disconnect();
  });
});

describe("checkEvictionPolicy", () => {
  it("warns when Redis may evict queue keys", async () => {
    const { producer } = await connections(uniquePrefix());
    const lines: string[] = [];
    const capture = createLogger("test", { destination: { write: (line: string) => lines.push(line) } });
    expect(await checkEvictionPolicy(producer as Redis, capture)).toBe("noeviction");
    expect(lines).toEqual([]);
    if (redis.owned) {
      await producer.config("SET", "maxmemory-policy", "allkeys-lru");
      expect(await checkEvictionPolicy(producer, capture)).toBe("allkeys-lru");
      expect(lines.join("")).toContain('set it to \\"noeviction\\"');
      await producer.config("SET", "maxmemory-policy", "noeviction");
    }
    producer.disconnect();
  });
});
