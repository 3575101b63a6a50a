import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingStore, recordingKeys } from "../src/index.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { commandTimeout: 2000 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const DAY_MS = 24 * 60 * 60 * 1000;

describe("a room's index", () => {
  it("has no TTL while a recording of the room is unfinished, and the retention once none is", async () => {
    const prefix = uniquePrefix();
    const store = new RecordingStore({ redis, prefix, retentionDays: 2 });
    const index = recordingKeys(prefix).byRoom("weekly");
    const create = async (kind: "video" | "audio") => {
      const created = await store.create({
        room: "weekly",
        kind,
        profile: "low-cpu",
        layout: "speaker",
        notify: null,
        metadata: null,
      });
      if (created.outcome !== "created") throw new Error("not created");
      return created.recording.id;
    };
    const video = await create("video");
    const audio = await create("audio");
    expect(await redis.pttl(index)).toBe(-1);
    // One of the two ends: the other still records, so the index stays.
    await store.transition(video, "cancelled", { reason: "t" });
    expect(await redis.pttl(index)).toBe(-1);
    await store.transition(audio, "cancelled", { reason: "t" });
    const ttl = await redis.pttl(index);
    expect(ttl).toBeGreaterThan(2 * DAY_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * DAY_MS);
    // A new recording of the room keeps the index for as long as it is unfinished.
    const again = await create("video");
    expect(await redis.pttl(index)).toBe(-1);
    expect((await store.inProgressIn("weekly")).map((recording) => recording.id)).toEqual([again]);
  });
});
