// The KEDA ScaledObjects scale recorder and mailer on the length of a Redis list: this checks,
// against a real Redis and the real job catalog, that a waiting job sits in exactly that list.
import { JobProducer, QUEUE_NAMES, type QueueName, redisOptionsFor } from "@recfleet/queues";
import { newRecordingId } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRepoFile } from "../scripts/repo.ts";
import { APPS, consumedQueue } from "./support/apps.ts";
import { K8S_OVERLAY, type K8sObject, render } from "./support/k8s.ts";
import { defaultOf } from "./support/schema.ts";

const rendered = render(K8S_OVERLAY);
const config = rendered.configMaps.get("recfleet-config") ?? {};
const prefix = config.REDIS_PREFIX ?? "";
const scaledObjects = rendered.objects.filter((o) => o.kind === "ScaledObject");

function listNameOf(object: K8sObject): string {
  const trigger = (object.spec.triggers as { type: string; metadata: Record<string, string> }[])[0];
  if (trigger?.type !== "redis") throw new Error(`${object.metadata.name}: first trigger is not "redis"`);
  return trigger.metadata.listName ?? "";
}

describe("KEDA list names", () => {
  let redis: TestRedis;
  let client: Redis;
  let producerConnection: Redis;
  let producer: JobProducer;

  beforeAll(async () => {
    redis = await startRedis();
    const redisConfig = { url: redis.url, prefix, tls: false, commandTimeoutMs: 2000 };
    client = new Redis(redis.url);
    producerConnection = new Redis(redis.url, redisOptionsFor("producer", redisConfig));
    producer = new JobProducer(producerConnection, prefix);
  });

  afterAll(async () => {
    await producer?.close();
    await Promise.all([client?.quit(), producerConnection?.quit()]);
    await redis?.stop();
  });

  it("a waiting start job is the one element of the list <prefix>:control:wait", async () => {
    // The overlay keeps the schema's default prefix, the one the apps use unless REDIS_PREFIX says otherwise.
    expect(prefix).toBe(defaultOf("REDIS_PREFIX"));
    await producer.enqueue("start", { recordingId: newRecordingId() });
    expect(await client.type(`${prefix}:control:wait`)).toBe("list");
    expect(await client.llen(`${prefix}:control:wait`)).toBe(1);
  });

  it("a waiting recording-saved job is the one element of <prefix>:notifications:wait", async () => {
    await producer.enqueue("recording-saved", { recordingId: newRecordingId() });
    expect(await client.type(`${prefix}:notifications:wait`)).toBe("list");
    expect(await client.llen(`${prefix}:notifications:wait`)).toBe(1);
  });

  it("a delayed job is not in the wait list (backpressure does not scale the recorders)", async () => {
    const before = await client.llen(`${prefix}:control:wait`);
    await producer.enqueue("start", { recordingId: newRecordingId() }, { delay: 60_000 });
    expect(await client.llen(`${prefix}:control:wait`)).toBe(before);
    expect(await client.zcard(`${prefix}:control:delayed`)).toBe(1);
  });

  it("each ScaledObject watches the wait list of the queue its Deployment consumes", () => {
    const expected = new Map<string, QueueName>();
    for (const app of APPS) {
      const sources = ["worker.ts", "main.ts"]
        .map((file) => {
          try {
            return readRepoFile(`apps/${app}/src/${file}`);
          } catch {
            return "";
          }
        })
        .join("\n");
      const queue = consumedQueue(app, sources);
      if (queue) expected.set(app, queue);
    }
    expect([...expected.keys()].sort()).toEqual(["mailer", "recorder"]);
    expect(scaledObjects.map((o) => o.spec.scaleTargetRef.name).sort()).toEqual([...expected.keys()].sort());
    for (const object of scaledObjects) {
      const queue = expected.get(object.spec.scaleTargetRef.name) ?? "";
      expect(QUEUE_NAMES).toContain(queue);
      expect(listNameOf(object)).toBe(`${prefix}:${queue}:wait`);
    }
  });
});
