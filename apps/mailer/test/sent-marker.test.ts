import { KEEP_FAILED } from "@recfleet/queues";
import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markerTtlSeconds, SentMarkers } from "../src/sent-marker.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

const record = {
  at: "2026-01-15T11:02:45.000Z",
  to: "o@example.com",
  messageId: "<m@x>",
  response: "250 OK",
};

describe("sent markers", () => {
  it("live under <prefix>:mail:sent:<kind>:<id> with the given TTL, one per kind", async () => {
    const prefix = uniquePrefix();
    const markers = new SentMarkers(redis, prefix, 1234);
    expect(await markers.get("saved", "r1")).toBeUndefined();
    await markers.mark("saved", "r1", record);
    expect(await markers.get("saved", "r1")).toEqual(record);
    expect(await markers.get("failed", "r1")).toBeUndefined();
    const ttl = await redis.ttl(`${prefix}:mail:sent:saved:r1`);
    expect(ttl).toBeGreaterThan(1200);
    expect(ttl).toBeLessThanOrEqual(1234);
  });

  it("outlive the longest job retention and the recording's own retention", () => {
    const keepFailed = "age" in KEEP_FAILED ? (KEEP_FAILED.age ?? 0) : 0;
    expect(markerTtlSeconds(1)).toBe(keepFailed);
    expect(markerTtlSeconds(90)).toBe(90 * 86_400);
  });

  it("let one run at a time send: a second claim learns how long to wait, and only the owner releases", async () => {
    const markers = new SentMarkers(redis, uniquePrefix(), 60);
    expect(await markers.claim("saved", "r1", "job:a", 5000)).toBe(0);
    const wait = await markers.claim("saved", "r1", "job:b", 5000);
    expect(wait).toBeGreaterThan(4000);
    expect(wait).toBeLessThanOrEqual(5000);
    await markers.release("saved", "r1", "job:b");
    expect(await markers.claim("saved", "r1", "job:b", 5000)).toBeGreaterThan(0);
    await markers.release("saved", "r1", "job:a");
    expect(await markers.claim("saved", "r1", "job:b", 5000)).toBe(0);
  });
});
