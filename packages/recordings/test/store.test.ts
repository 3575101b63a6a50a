import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NewRecording, RecordingStore, recordingIdSchema, TRANSITIONS } from "../src/index.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { commandTimeout: 2000 });
  await redis.ping();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

function newStore(retentionDays = 30) {
  const prefix = uniquePrefix();
  return { prefix, store: new RecordingStore({ redis, prefix, retentionDays }) };
}

const input = (room: string, kind: NewRecording["kind"] = "video"): NewRecording => ({
  room,
  kind,
  profile: "low-cpu",
  layout: "speaker",
  notify: { email: "owner@example.com" },
  metadata: { meeting: 42 },
});

async function created(store: RecordingStore, room: string, kind: NewRecording["kind"] = "video") {
  const result = await store.create(input(room, kind));
  if (result.outcome !== "created") throw new Error(`expected created, got ${result.outcome}`);
  return result.recording;
}

describe("RecordingStore.create", () => {
  it("creates a queued recording with a UUIDv7 id and a timeline", async () => {
    const { store } = newStore();
    const recording = await created(store, "room-1");
    expect(recordingIdSchema.safeParse(recording.id).success).toBe(true);
    expect(recording).toMatchObject({
      status: "queued",
      room: "room-1",
      egressId: null,
      stopRequested: false,
    });
    expect(recording.timeline).toEqual([
      { status: "queued", at: recording.createdAt, reason: "recording requested" },
    ]);
    expect(await store.get(recording.id)).toEqual(recording);
    expect((await store.inProgressIn("room-1")).map((r) => r.id)).toEqual([recording.id]);
  });

  it("allows one recording per room and kind at a time", async () => {
    const { store } = newStore();
    const video = await created(store, "room-1", "video");
    const again = await store.create(input("room-1", "video"));
    expect(again).toMatchObject({ outcome: "conflict", existing: { id: video.id } });
    // A room can have a video and an audio recording at once.
    await created(store, "room-1", "audio");
    // Once the egress has ended, the room is free again.
    await store.transition(video.id, "starting", { reason: "picked up" });
    await store.transition(video.id, "active", { reason: "egress active", egressId: "EG_1" });
    await store.transition(video.id, "stopped", { reason: "egress ended" });
    expect((await store.inProgressIn("room-1")).map((r) => r.kind)).toEqual(["audio"]);
    await created(store, "room-1", "video");
  });

  it("records several participants and track sets of one room at once, each only once", async () => {
    const { store } = newStore();
    const composite = await created(store, "room-p", "video");
    const participant = (identity: string) =>
      store.create({
        ...input("room-p", "video"),
        source: { type: "participant", identity, screenShare: false },
      });
    const alice = await participant("alice");
    const bob = await participant("bob");
    expect([alice.outcome, bob.outcome]).toEqual(["created", "created"]);
    expect(await participant("alice")).toMatchObject({ outcome: "conflict" });
    // An identity that looks like another slot is still its own.
    expect((await participant("alice:x")).outcome).toBe("created");
    const tracks = { type: "tracks", audioTrackId: "TR_a", videoTrackId: null } as const;
    expect((await store.create({ ...input("room-p", "video"), source: tracks })).outcome).toBe("created");
    expect(await store.create({ ...input("room-p", "video"), source: tracks })).toMatchObject({
      outcome: "conflict",
    });
    expect((await store.inProgressIn("room-p")).length).toBe(5);
    expect((await store.get(composite.id))?.source).toEqual({ type: "room" });
  });

  it("creates exactly one recording when 50 requests race for one room", async () => {
    const { store } = newStore();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.create(input("busy-room"))));
    const outcomes = results.map((result) => result.outcome);
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "conflict")).toHaveLength(49);
    expect((await store.list({ room: "busy-room", limit: 100 })).items).toHaveLength(1);
  });

  it("replays an idempotent request and refuses the same key with another body", async () => {
    const { store } = newStore();
    const claim = { scope: "key-1", bodyHash: "hash-a", ttlMs: 60_000 };
    const first = await store.create(input("room-i"), { idempotency: claim });
    expect(first.outcome).toBe("created");
    const replay = await store.create(input("room-i"), { idempotency: claim });
    expect(replay).toMatchObject({
      outcome: "replayed",
      recording: { id: first.outcome === "created" ? first.recording.id : "" },
    });
    const other = await store.create(input("room-j"), { idempotency: { ...claim, bodyHash: "hash-b" } });
    expect(other.outcome).toBe("idempotency_mismatch");
  });
});

describe("RecordingStore.transition", () => {
  it("follows the table and records each step on the timeline", async () => {
    const { store } = newStore();
    const { id } = await created(store, "room-t");
    expect((await store.transition(id, "starting", { reason: "picked up by recorder" })).ok).toBe(true);
    const active = await store.transition(id, "active", { reason: "egress active", egressId: "EG_abc" });
    expect(active).toMatchObject({ ok: true, recording: { status: "active", egressId: "EG_abc" } });
    expect((await store.getByEgressId("EG_abc"))?.id).toBe(id);
    const recording = await store.get(id);
    expect(recording?.startedAt).not.toBeNull();
    expect(recording?.timeline.map((entry) => [entry.status, entry.reason])).toEqual([
      ["queued", "recording requested"],
      ["starting", "picked up by recorder"],
      ["active", "egress active"],
    ]);
  });

  it("makes an illegal move a visible no-op, including a repeat", async () => {
    const { store } = newStore();
    const { id } = await created(store, "room-x");
    const backwards = await store.transition(id, "notified", { reason: "nope" });
    expect(backwards).toMatchObject({ ok: false, reason: "illegal", recording: { status: "queued" } });
    await store.transition(id, "cancelled", { reason: "stopped before start" });
    const again = await store.transition(id, "cancelled", { reason: "duplicate stop" });
    expect(again).toMatchObject({ ok: false, reason: "illegal" });
    expect((await store.get(id))?.timeline).toHaveLength(2);
    expect(
      await store.transition("0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b", "starting", { reason: "x" }),
    ).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("lets exactly one of two racing workers move a recording", async () => {
    const { store } = newStore();
    for (let round = 0; round < 20; round += 1) {
      const { id } = await created(store, `race-${round}`);
      await store.transition(id, "starting", { reason: "picked up" });
      await store.transition(id, "active", { reason: "active", egressId: `EG_${round}` });
      const results = await Promise.all([
        store.transition(id, "stopping", { reason: "stop job" }),
        store.transition(id, "stopping", { reason: "egress_updated ENDING webhook" }),
      ]);
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect((await store.get(id))?.timeline.map((entry) => entry.status)).toEqual([
        "queued",
        "starting",
        "active",
        "stopping",
      ]);
    }
  });

  it("applies a narrower rule when asked, in the same compare-and-set", async () => {
    const { store } = newStore();
    const { id } = await created(store, "room-o");
    const refused = await store.transition(id, "failed", { reason: "x", onlyFrom: ["active"] });
    expect(refused).toMatchObject({ ok: false, reason: "illegal", recording: { status: "queued" } });
    expect((await store.transition(id, "failed", { reason: "x", onlyFrom: ["queued"] })).ok).toBe(true);
  });

  it("counts by status, and fails rather than report zeros when Redis fails", async () => {
    const { store } = newStore();
    await created(store, "room-c");
    expect((await store.countByStatus()).queued).toBe(1);
    const offline = new Redis(server.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const unreachable = new RecordingStore({ redis: offline, prefix: "p", retentionDays: 1 });
    await expect(unreachable.countByStatus()).rejects.toThrow();
    offline.disconnect();
  });

  it("forgets an idempotency key on request", async () => {
    const { store } = newStore();
    const claim = { scope: "k", bodyHash: "h", ttlMs: 60_000 };
    const first = await store.create(input("room-k"), { idempotency: claim });
    if (first.outcome !== "created") throw new Error("not created");
    await store.remove(first.recording.id);
    await store.releaseIdempotency("k");
    expect((await store.create(input("room-k"), { idempotency: claim })).outcome).toBe("created");
  });

  it("expires final recordings after the retention", async () => {
    const { store, prefix } = newStore(2);
    const { id } = await created(store, "room-e");
    expect(await redis.pttl(`${prefix}:rec:id:${id}`)).toBe(-1);
    await store.transition(id, "cancelled", { reason: "stopped before start" });
    const ttl = await redis.pttl(`${prefix}:rec:id:${id}`);
    expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
  });

  it("has a transition table where every status is reachable from queued", () => {
    const reached = new Set(["queued"]);
    for (let i = 0; i < 10; i += 1) {
      for (const from of [...reached])
        for (const to of TRANSITIONS[from as keyof typeof TRANSITIONS]) reached.add(to);
    }
    expect([...reached].sort()).toEqual(Object.keys(TRANSITIONS).sort());
  });
});

describe("RecordingStore notes", () => {
  it("attaches the egress and the stop request without changing the status", async () => {
    const { store } = newStore();
    const { id } = await created(store, "room-n");
    await store.transition(id, "starting", { reason: "picked up" });
    expect((await store.attachEgress(id, "EG_n", "egress EG_n started")).ok).toBe(true);
    expect((await store.attachEgress(id, "EG_n", "again")).ok).toBe(false);
    expect((await store.requestStop(id, "stop requested while starting")).ok).toBe(true);
    const recording = await store.get(id);
    expect(recording).toMatchObject({ status: "starting", egressId: "EG_n", stopRequested: true });
    expect((await store.getByEgressId("EG_n"))?.id).toBe(id);
  });
});

describe("RecordingStore.list", () => {
  it("pages newest first and filters by room and status", async () => {
    const { store } = newStore();
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push((await created(store, `room-${i}`)).id);
    await store.transition(ids[0] ?? "", "cancelled", { reason: "cancel" });
    await store.transition(ids[2] ?? "", "cancelled", { reason: "cancel" });

    const first = await store.list({ limit: 3 });
    expect(first.items.map((r) => r.id)).toEqual([ids[6], ids[5], ids[4]]);
    const second = await store.list({ limit: 3, cursor: first.nextCursor ?? "" });
    expect(second.items.map((r) => r.id)).toEqual([ids[3], ids[2], ids[1]]);
    const third = await store.list({ limit: 3, cursor: second.nextCursor ?? "" });
    expect(third.items.map((r) => r.id)).toEqual([ids[0]]);
    expect(third.nextCursor).toBeNull();

    expect((await store.list({ status: "cancelled", limit: 10 })).items.map((r) => r.id)).toEqual([
      ids[2],
      ids[0],
    ]);
    const video = await created(store, "shared", "video");
    const audio = await created(store, "shared", "audio");
    await store.transition(video.id, "cancelled", { reason: "cancel" });
    expect(
      (await store.list({ room: "shared", status: "queued", limit: 10 })).items.map((r) => r.id),
    ).toEqual([audio.id]);
    expect((await store.list({ room: "shared", limit: 10 })).items.map((r) => r.id)).toEqual([
      audio.id,
      video.id,
    ]);
    expect(await store.countByStatus()).toMatchObject({ queued: 6, cancelled: 3, active: 0 });
  });

  it("drops index entries of expired recordings", async () => {
    const { store, prefix } = newStore();
    const gone = await created(store, "room-g");
    const kept = await created(store, "room-g", "audio");
    await redis.del(`${prefix}:rec:id:${gone.id}`);
    expect((await store.list({ room: "room-g", limit: 10 })).items.map((r) => r.id)).toEqual([kept.id]);
    expect(await redis.zrange(`${prefix}:rec:room:room-g`, 0, -1)).toEqual([kept.id]);
  });

  it("removes a recording with its indexes", async () => {
    const { store } = newStore();
    const recording = await created(store, "room-r");
    await store.remove(recording.id);
    expect(await store.get(recording.id)).toBeUndefined();
    expect(await store.inProgressIn("room-r")).toEqual([]);
    expect((await store.list({ limit: 10 })).items).toEqual([]);
  });
});
