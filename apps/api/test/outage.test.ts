import { freePort, scaled, startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { egressEvent, problemOf, sample, signedWebhook, startTestApi, type TestApi } from "./support.ts";

// This file kills and pauses its own Redis: it shares it with no other file.
let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis({ appendOnly: true });
  api = await startTestApi({ redisUrl: redis.url });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("5");
  expect(await problemOf(response)).toMatchObject({
    type: "https://recfleet.dev/problems/service-unavailable",
    status: 503,
  });
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("while Redis is down", () => {
  it("answers 503 with Retry-After at once, never hangs, and recovers when Redis is back", async () => {
    const before = await api.call("/v1/recordings", { method: "POST", json: { room: "before-outage" } });
    expect(before.status).toBe(202);
    const existing = (await before.json()) as { id: string };
    await redis.kill();
    try {
      const started = Date.now();
      await expectUnavailable(
        await api.call("/v1/recordings", { method: "POST", json: { room: "outage-room" } }),
      );
      await expectUnavailable(await api.call(`/v1/recordings/${existing.id}`));
      await expectUnavailable(await api.call(`/v1/recordings/${existing.id}/stop`, { method: "POST" }));
      await expectUnavailable(await api.call("/v1/recordings"));
      const webhook = await signedWebhook(egressEvent("egress_updated", "EG_any", "EGRESS_ACTIVE"));
      await expectUnavailable(await fetch(`${api.url}/v1/webhooks/livekit`, { method: "POST", ...webhook }));
      const ready = await fetch(`${api.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await problemOf(ready)).toMatchObject({ checks: { redis: { ok: false } } });
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      const metrics = await fetch(`${api.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(sample(text, "recfleet_metrics_source_up", { source: "recordings" })).toBe(0);
      expect(sample(text, "recfleet_metrics_source_up", { source: "queues" })).toBe(0);
      // Each answer is bounded by the fail-fast connections and the per-step deadline.
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      await redis.start();
    }
    const recovered = await eventually(async () => {
      const response = await api.call("/v1/recordings", { method: "POST", json: { room: "outage-room" } });
      return response.status === 202 ? ((await response.json()) as { id: string }) : undefined;
    });
    expect(await api.queues.control.getJob(`start-${recovered.id}`)).toBeDefined();
    // The outage left no half-created recording behind: the room holds only the new one.
    const listed = await api.call("/v1/recordings?room=outage-room");
    expect(((await listed.json()) as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([
      recovered.id,
    ]);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });

  it("answers 503 within the deadline when Redis stops answering", async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.call("CLIENT", "PAUSE", "2000", "ALL");
      const started = Date.now();
      await expectUnavailable(await api.call("/v1/recordings?room=paused"));
      expect(Date.now() - started).toBeLessThan(1900);
    } finally {
      await admin.call("CLIENT", "UNPAUSE").catch(() => undefined);
      admin.disconnect();
    }
  });
});

describe("when the start job cannot be queued", () => {
  it("rolls the recording back, answers 503 and lets a retry with the same Idempotency-Key create it", async () => {
    const prefix = uniquePrefix("rollback");
    // The producer talks to a port nobody listens on: a real connection to a dead Redis.
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const broken = await startTestApi({ redisUrl: redis.url, producerRedisUrl: deadRedis, prefix });
    const request = {
      method: "POST",
      json: { room: "rollback-room" },
      headers: { "idempotency-key": "k-1" },
    };
    try {
      const response = await broken.call("/v1/recordings", request);
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await problemOf(response)).toMatchObject({
        type: "https://recfleet.dev/problems/service-unavailable",
        detail: "The start job could not be queued, so the recording was not created; retry shortly.",
      });
      expect(await broken.store.inProgressIn("rollback-room")).toEqual([]);
      const listed = await broken.call("/v1/recordings?room=rollback-room");
      expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
      expect(broken.logs.some((line) => line.includes("recording rolled back"))).toBe(true);
    } finally {
      await broken.close();
    }
    const healthy = await startTestApi({ redisUrl: redis.url, prefix });
    try {
      const retry = await healthy.call("/v1/recordings", request);
      expect(retry.status).toBe(202);
      expect(retry.headers.get("idempotent-replayed")).toBeNull();
      const recording = (await retry.json()) as { id: string };
      expect(await healthy.queues.control.getJob(`start-${recording.id}`)).toBeDefined();
    } finally {
      await healthy.close();
    }
  });
});
