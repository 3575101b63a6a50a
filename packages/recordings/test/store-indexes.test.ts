import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRecordingId, RecordingStore, recordingIdFloor, recordingKeys } from "../src/index.ts";

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

const input = (room: string) => ({
  room,
  kind: "video" as const,
  profile: "low-cpu",
  layout: "speaker",
  notify: null,
  metadata: null,
});

describe("oldestAwaitingFiles", () => {
  it("is the oldest recording queued to stopped, whatever came later or finished", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    expect(await store.oldestAwaitingFiles()).toBeNull();
    const ids: string[] = [];
    for (const room of ["a", "b", "c", "d"]) {
      const created = await store.create(input(room));
      if (created.outcome !== "created") throw new Error("not created");
      ids.push(created.recording.id);
    }
    const [a, b, c] = ids as [string, string, string, string];
    // a finishes; b is stopped and waits for its file; c records; d is queued.
    await store.transition(a, "cancelled", { reason: "t" });
    await store.transition(b, "starting", { reason: "t" });
    await store.transition(b, "stopped", { reason: "t" });
    await store.transition(c, "starting", { reason: "t" });
    await store.transition(c, "active", { reason: "t" });
    expect(await store.oldestAwaitingFiles()).toBe(b);
    await store.transition(b, "saved", { reason: "t" });
    expect(await store.oldestAwaitingFiles()).toBe(c);
    expect(await store.statusOf(b)).toBe("saved");
    expect(await store.statusOf(newRecordingId())).toBeUndefined();
  });
});

describe("recordingIdFloor", () => {
  it("sorts after the ids minted before its time and before those minted at or after it", () => {
    const before = newRecordingId();
    const at = Date.now() + 2;
    const floor = recordingIdFloor(at);
    expect(floor < `${recordingIdFloor(at)}-7000-8000-000000000000`).toBe(true);
    expect(before < floor).toBe(true);
    expect(recordingIdFloor(at + 1) > floor).toBe(true);
    expect(floor).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}$/);
  });
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
