import type { Tenant, TenantRegistry } from "@recfleet/config";
import { createRedisConnection, JobProducer, waitUntilReady } from "@recfleet/queues";
import { RecordingStore, recordingKeys } from "@recfleet/recordings";
import { createLogger } from "@recfleet/runtime";
import { eventually, startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallbackDispatcher } from "../src/callbacks/dispatcher.ts";

const acme: Tenant = {
  name: "acme",
  keys: [],
  scopes: ["recordings:read"],
  recipientDomains: null,
  limits: { recordingsPerHour: null, emailsPerHour: null, concurrentRecordings: null },
  expireDays: null,
  callback: {
    url: "https://hooks.acme.example/",
    secret: "whsec_x",
    events: ["recording.started", "recording.cancelled"],
  },
  autoRecord: null,
};
const tenants: TenantRegistry = { tenants: [acme], get: (name) => (name === "acme" ? acme : undefined) };

let server: TestRedis;
let redis: Redis;
let stream: Redis;
let producerConnection: Redis;
let producer: JobProducer;
let store: RecordingStore;
let dispatcher: CallbackDispatcher;
const prefix = uniquePrefix("dispatch");
const streamKey = recordingKeys(prefix).events;

beforeAll(async () => {
  server = await startRedis();
  const config = { url: server.url, prefix, tls: false, commandTimeoutMs: 2000 };
  redis = createRedisConnection("client", config);
  producerConnection = createRedisConnection("producer", config);
  stream = createRedisConnection("worker", config);
  await Promise.all([waitUntilReady(redis, 10_000), waitUntilReady(producerConnection, 10_000)]);
  producer = new JobProducer(producerConnection, prefix);
  store = new RecordingStore({ redis, prefix, retentionDays: 30 });
  dispatcher = new CallbackDispatcher({
    connection: stream,
    stream: streamKey,
    producer,
    tenants,
    logger: createLogger("dispatch-test", { level: "silent" }),
    blockMs: 100,
  });
  dispatcher.start();
});
afterAll(async () => {
  await dispatcher?.stop();
  stream?.disconnect();
  await producer?.close();
  await Promise.all([redis?.quit(), producerConnection?.quit()]);
  await server?.stop();
});

async function recording(tenant: string): Promise<string> {
  const created = await store.create({
    tenant,
    room: `room-${tenant}-${Math.floor(performance.now())}`,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error(created.outcome);
  return created.recording.id;
}

const jobOf = (event: string, id: string) =>
  producer.queue("notifications").getJob(`callback-${event}-${id}`);

describe("the callback dispatcher", () => {
  it("queues one job per subscribed event, drops the rest, and leaves the stream empty", async () => {
    const mine = await recording("acme");
    const theirs = await recording("globex");
    await store.transition(mine, "starting", { reason: "test" });
    await store.transition(mine, "active", { reason: "test", egressId: "EG_1" });
    await store.transition(mine, "stopped", { reason: "test" });
    await store.transition(theirs, "cancelled", { reason: "test" });
    const started = await eventually(() => jobOf("recording.started", mine), { what: "the started job" });
    expect(started.data).toMatchObject({ recordingId: mine, event: "recording.started", resend: 0 });
    await eventually(async () => ((await redis.xlen(streamKey)) === 0 ? true : undefined), {
      what: "an empty stream",
    });
    // Not subscribed (stopped), or a tenant without a callback: no job.
    expect(await jobOf("recording.stopped", mine)).toBeUndefined();
    expect(await jobOf("recording.cancelled", theirs)).toBeUndefined();
  });

  it("carries on when Redis loses the consumer group", async () => {
    await redis.xgroup("DESTROY", streamKey, "callbacks");
    const later = await recording("acme");
    await store.transition(later, "cancelled", { reason: "test" });
    await eventually(() => jobOf("recording.cancelled", later), {
      what: "the job of an event after the loss",
    });
  });
});
