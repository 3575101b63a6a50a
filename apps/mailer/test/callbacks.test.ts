import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CallbackEvent } from "@recfleet/config";
import { createRedisConnection, waitUntilReady } from "@recfleet/queues";
import {
  DeliveryLog,
  type Recording,
  RecordingStore,
  recordingKeys,
  webhookIdOf,
} from "@recfleet/recordings";
import {
  type Receiver,
  type RunningProcess,
  secretOf,
  spawnTs,
  startReceiver,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "@recfleet/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FROM } from "./support.ts";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const SECRET = secretOf(3);
const FAILURES_BEFORE_SUCCESS = 3;

let redisServer: TestRedis;
let redis: Redis;
let receiver: Receiver;
let store: RecordingStore;
const prefix = uniquePrefix("callbacks");
const mailers: RunningProcess[] = [];
let tenantsFile: string;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = createRedisConnection("client", {
    url: redisServer.url,
    prefix,
    tls: false,
    commandTimeoutMs: 2000,
  });
  await waitUntilReady(redis, 10_000);
  store = new RecordingStore({ redis, prefix, retentionDays: 30 });
  // Every event fails its first three attempts (two 503s and a network-level 500), then is taken.
  receiver = await startReceiver(SECRET, (_id, earlier) =>
    earlier < FAILURES_BEFORE_SUCCESS
      ? { status: earlier === 1 ? 500 : 503, body: "try later" }
      : { status: 204 },
  );
  const dir = mkdtempSync(join(tmpdir(), "recfleet-callbacks-"));
  tenantsFile = join(dir, "tenants.yaml");
  writeFileSync(
    tenantsFile,
    [
      "tenants:",
      "  acme:",
      "    callback:",
      `      url: ${receiver.url}`,
      `      secret: ${SECRET}`,
      "  globex: {}",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await Promise.all(mailers.map((mailer) => mailer.stop("SIGKILL")));
  await receiver?.close();
  await redis?.quit();
  await redisServer?.stop();
});

function startMailer(): RunningProcess {
  const mailer = spawnTs(entry, [], {
    env: {
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      HEALTH_PORT: "0",
      HEALTH_HOST: "127.0.0.1",
      STORAGE_ACCESS_KEY: "minio",
      STORAGE_SECRET_KEY: "minio-secret",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: "9",
      SMTP_FROM: FROM,
      TENANTS_FILE: tenantsFile,
      CALLBACKS_ALLOW_PRIVATE_TARGETS: "true",
      CALLBACKS_RETRY_DELAY_MS: "150",
      LOG_LEVEL: "info",
    },
  });
  mailers.push(mailer);
  return mailer;
}

const ready = (mailer: RunningProcess) => mailer.waitForLine(/"msg":"health endpoint listening"/, 20_000);

async function move(
  id: string,
  to: Recording["status"],
  changes: Partial<Parameters<RecordingStore["transition"]>[2]> = {},
) {
  const result = await store.transition(id, to, { reason: `test: ${to}`, ...changes });
  if (!result.ok) throw new Error(`could not move ${id} to ${to}: ${result.reason}`);
  return result.recording;
}

async function created(tenant: string, room: string): Promise<string> {
  const result = await store.create({
    tenant,
    room,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: { course: room },
    expireDays: 1,
  });
  if (result.outcome !== "created") throw new Error(result.outcome);
  return result.recording.id;
}

const file = (id: string) => ({
  bucket: "recordings",
  key: `recordings/${id}.mp4`,
  size: 1234,
  etag: null,
  contentType: "video/mp4",
});

describe("tenant callbacks", () => {
  it("reach a failing receiver exactly once per event, signed, one webhook-id per event, across restarts and replicas", async () => {
    const first = startMailer();
    const second = startMailer();
    await Promise.all([ready(first), ready(second)]);

    const expected = new Map<string, CallbackEvent[]>();
    // A whole life: started, stopped, ready, then deleted.
    const full = await created("acme", "full-life");
    await move(full, "starting");
    await move(full, "active", { egressId: "EG_full" });
    await move(full, "stopped");
    await move(full, "saved", { file: file(full) });
    expected.set(full, ["recording.started", "recording.stopped", "recording.ready"]);
    // One whose file landed before egress said it ended: stopped and ready together.
    const quick = await created("acme", "quick");
    await move(quick, "starting");
    await move(quick, "saved", { file: file(quick) });
    expected.set(quick, ["recording.stopped", "recording.ready"]);
    const failed = await created("acme", "failing");
    await move(failed, "starting");
    await move(failed, "failed", { error: { code: "egress_failed", message: "egress said: boom" } });
    expected.set(failed, ["recording.failed"]);
    const cancelled = await created("acme", "cancelled");
    await move(cancelled, "cancelled");
    expected.set(cancelled, ["recording.cancelled"]);
    // Another tenant, without a callback: nothing is sent for it.
    const other = await created("globex", "other");
    await move(other, "starting");
    await move(other, "active", { egressId: "EG_other" });

    // Some attempts failed on both replicas: one is stopped (its delayed retries stay queued)
    // and a new one takes its place.
    await receiver.waitFor((calls) => calls.length >= 6, "six attempts");
    expect(await first.stop("SIGTERM")).toBe(0);
    const third = startMailer();
    await ready(third);

    // Events after the restart: a deletion and an expiry.
    await move(full, "deleted");
    expected.get(full)?.push("recording.deleted");
    await move(quick, "expired");
    expected.get(quick)?.push("recording.expired");
    await move(cancelled, "deleted");
    expected.get(cancelled)?.push("recording.deleted");

    const total = [...expected.values()].reduce((sum, events) => sum + events.length, 0);
    await receiver.waitFor(
      (calls) => calls.filter((call) => call.answered === 204).length >= total,
      `${total} deliveries`,
      60_000,
    );
    // Anything still on its way would show up now.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(receiver.calls.filter((call) => call.payload === undefined)).toEqual([]);
    const accepted = receiver.accepted();
    const seen = accepted.map((call) => `${call.payload?.data.id} ${call.payload?.type}`).sort();
    const wanted = [...expected].flatMap(([id, events]) => events.map((event) => `${id} ${event}`)).sort();
    expect(seen).toEqual(wanted);
    for (const call of accepted) {
      const type = call.payload?.type as CallbackEvent;
      const id = String(call.payload?.data.id);
      expect(call.webhookId).toBe(webhookIdOf(id, type));
      // Every attempt of the event carried the same webhook-id: three failures, then this one.
      expect(receiver.calls.filter((other) => other.webhookId === call.webhookId)).toHaveLength(
        FAILURES_BEFORE_SUCCESS + 1,
      );
      expect(call.payload?.data.tenant).toBe("acme");
    }
    expect(receiver.calls.some((call) => call.body.includes(other))).toBe(false);

    const byType = (id: string, type: CallbackEvent) =>
      accepted.find((call) => call.payload?.data.id === id && call.payload.type === type)?.payload;
    const ready_ = byType(full, "recording.ready");
    expect(ready_?.data).toMatchObject({
      room: "full-life",
      metadata: { course: "full-life" },
      file: { size: 1234 },
    });
    expect((ready_?.data.download as { url: string } | null)?.url).toContain(`${full}.mp4`);
    expect(ready_?.data.expiresAt).toEqual(expect.any(String));
    expect(byType(failed, "recording.failed")?.data.error).toMatchObject({ code: "egress_failed" });
    // A link only where the docs promise one: recording.ready.
    expect(byType(full, "recording.started")?.data.download).toBeNull();
    expect(byType(full, "recording.deleted")?.data.status).toBe("deleted");
    expect(byType(quick, "recording.expired")?.data.download).toBeNull();

    const log = new DeliveryLog(redis, prefix, 60_000);
    const deliveries = await log.list(full);
    expect(deliveries.map((delivery) => [delivery.event, delivery.state, delivery.attemptCount])).toEqual(
      expected.get(full)?.map((event) => [event, "delivered", FAILURES_BEFORE_SUCCESS + 1]),
    );
    expect(deliveries[0]?.attempts.map((attempt) => attempt.outcome)).toEqual([
      "retryable",
      "retryable",
      "retryable",
      "delivered",
    ]);
    // Two events of one change are listed in the lifecycle's order.
    expect((await log.list(quick)).map((delivery) => delivery.event)).toEqual([
      "recording.stopped",
      "recording.ready",
      "recording.expired",
    ]);
    // The event stream holds only what is not yet dispatched.
    expect(await redis.xlen(recordingKeys(prefix).events)).toBe(0);
    await Promise.all([second.stop("SIGTERM"), third.stop("SIGTERM")]);
  }, 120_000);
});
