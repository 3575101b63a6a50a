// Auto-record rules on the recorder's side, against the emulator: room events as the API queues
// them from LiveKit's webhooks (at least once, in any order) and what the reconciler reads from
// RoomService when a webhook never came. One trigger makes one recording; a session that ended
// before its start was seen makes none; a room that closed unseen stops its recording.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobData } from "@recfleet/queues";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  closeTestS3,
  type EgressProcess,
  eventually,
  type Harness,
  startEgressProcess,
  startHarness,
  untilActive,
} from "./support.ts";

let redis: TestRedis;
let egress: EgressProcess;
let harness: Harness;
let rulesFile: string;

beforeAll(async () => {
  redis = await startRedis();
  egress = await startEgressProcess();
  rulesFile = join(mkdtempSync(join(tmpdir(), "recfleet-auto-record-")), "rules.json");
  writeFileSync(
    rulesFile,
    JSON.stringify({
      rules: [
        {
          name: "courses",
          match: "course-*",
          trigger: "room_started",
          notify: { email: "teacher@example.com" },
        },
        { name: "people", match: "people-*", trigger: "participant_joined" },
        { name: "tracks", match: "tracks-*", trigger: "track_published" },
      ],
    }),
  );
});
afterAll(async () => {
  await closeTestS3();
  await egress?.process.stop();
  await redis?.stop();
});
afterEach(async () => {
  await harness?.close();
});

interface RoomListing {
  rooms: {
    room: { name: string; sid: string };
    participants: { sid: string; identity: string; tracks: { sid: string; type: string }[] }[];
  }[];
}

async function roomOf(name: string) {
  const listed = (await egress.admin<RoomListing>("/rooms")).rooms.find((entry) => entry.room.name === name);
  if (!listed) throw new Error(`no room ${name}`);
  return listed;
}

let events = 0;
/** Queues a room event as the API does for a verified webhook (each delivery its own id). */
async function deliver(event: Omit<JobData<"room-event">, "eventId" | "createdAt">) {
  events += 1;
  await harness.producer.enqueue("room-event", {
    ...event,
    eventId: `EV_test_${events}`,
    createdAt: Math.floor(Date.now() / 1000),
  });
}

const recordingsOf = async (room: string) => (await harness.store.list({ room, limit: 100 })).items;
const reconcile = () => handleReconcile(harness.context, harness.client, harness.prefix);
/** Closes a room in LiveKit (its egresses end); every test closes its own, the rules match them all. */
const closeRoom = (name: string) =>
  fetch(`${egress.url}/_admin/rooms/${encodeURIComponent(name)}`, { method: "DELETE" });
/** No webhook reaches these tests: the reconciler moves the recording on, as it would. */
const untilSaved = (id: string) =>
  eventually(async () => {
    await reconcile();
    const current = await harness.store.get(id);
    return current?.status === "saved" ? current : undefined;
  });
const start = () =>
  startHarness({
    redisUrl: redis.url,
    egressUrl: egress.url,
    autoRecordFile: rulesFile,
    recorder: { fileCheckAfterMs: 0 },
  });

describe("a room_started rule", () => {
  it("records the room once, whatever the repeats, and stops and saves it when the room finishes", async () => {
    harness = await start();
    const name = `course-${Date.now()}`;
    await egress.openRoom(name);
    const { room } = await roomOf(name);
    const started = {
      event: "room_started" as const,
      room: name,
      roomSid: room.sid,
      participant: null,
      track: null,
    };
    await deliver(started);
    await deliver(started);
    const [recording] = await eventually(async () => {
      const found = await recordingsOf(name);
      return found.length > 0 ? found : undefined;
    });
    if (!recording) throw new Error("no recording");
    expect(recording.trigger).toEqual({ rule: "courses", event: "room_started", sid: room.sid });
    expect(recording.notify).toEqual({ email: "teacher@example.com" });
    await untilActive(harness, recording.id);
    await deliver(started);
    // The reconciler reads the open room too: still the same one recording.
    await reconcile();
    expect((await recordingsOf(name)).map((entry) => entry.id)).toEqual([recording.id]);

    await deliver({ ...started, event: "room_finished" });
    const saved = await untilSaved(recording.id);
    expect(saved.timeline.map((entry) => entry.reason)).toContain(
      'stop requested: room_finished (auto-record rule "courses")',
    );
    // A late, repeated room_started of the session that ended starts nothing.
    await deliver(started);
    await reconcile();
    expect((await recordingsOf(name)).map((entry) => entry.id)).toEqual([recording.id]);
    await closeRoom(name);
  });

  it("starts a room whose room_started never came, from RoomService, and stops it once the room is gone unseen", async () => {
    harness = await start();
    const name = `course-missed-${Date.now()}`;
    await egress.openRoom(name);
    const { room } = await roomOf(name);
    expect(await reconcile()).toMatchObject({ "auto-record started (webhook missed)": 1 });
    const [recording] = await recordingsOf(name);
    expect(recording?.trigger).toEqual({ rule: "courses", event: "room_started", sid: room.sid });
    await untilActive(harness, recording?.id ?? "");
    expect(await reconcile()).not.toHaveProperty("auto-record started (webhook missed)");
    await closeRoom(name);
    const saved = await untilSaved(recording?.id ?? "");
    expect(saved.egressId).not.toBeNull();
    expect(await recordingsOf(name)).toHaveLength(1);
    // The same name opened again is another session (another sid): it gets its own recording.
    await egress.openRoom(name);
    const reopened = await roomOf(name);
    expect(reopened.room.sid).not.toBe(room.sid);
    expect(await reconcile()).toMatchObject({ "auto-record started (webhook missed)": 1 });
    const sessions = (await recordingsOf(name)).map((entry) => entry.trigger?.sid).sort();
    expect(sessions).toEqual([room.sid, reopened.room.sid].sort());
    await closeRoom(name);
  });
});

describe("a participant_joined rule", () => {
  it("records each participant once, and nothing for one whose left came before its joined", async () => {
    harness = await start();
    const name = `people-${Date.now()}`;
    await egress.admin(`/rooms/${name}/participants`, { identity: "ana", publish: ["camera", "microphone"] });
    const { room, participants } = await roomOf(name);
    const ana = participants.find((participant) => participant.identity === "ana");
    if (!ana) throw new Error("ana is not in the room");
    const base = { room: name, roomSid: room.sid, track: null };
    const joined = {
      ...base,
      event: "participant_joined" as const,
      participant: { sid: ana.sid, identity: "ana", kind: "standard" as const },
    };
    const ghost = { sid: "PA_ghost12345", identity: "ghost", kind: "standard" as const };
    await deliver({ ...base, event: "participant_left", participant: ghost });
    await deliver({ ...base, event: "participant_joined", participant: ghost });
    await deliver(joined);
    await deliver(joined);
    const recording = await eventually(async () => (await recordingsOf(name))[0]);
    expect(recording.source).toEqual({ type: "participant", identity: "ana", screenShare: false });
    await untilActive(harness, recording.id);
    // Egress' own participant is no person to record.
    await deliver({
      ...base,
      event: "participant_joined",
      participant: { sid: "PA_egress1234", identity: "EG_x", kind: "egress" },
    });
    await reconcile();
    const all = await recordingsOf(name);
    expect(all.map((entry) => [entry.id, entry.trigger?.sid])).toEqual([[recording.id, ana.sid]]);
    await deliver({ ...joined, event: "participant_left" });
    await untilSaved(recording.id);
    await closeRoom(name);
  });
});

describe("a track_published rule", () => {
  it("records each published track as is, in its codec's container, from the webhook or the reconciler", async () => {
    harness = await start();
    const name = `tracks-${Date.now()}`;
    await egress.admin(`/rooms/${name}/participants`, { identity: "bo", publish: ["camera", "microphone"] });
    const { room, participants } = await roomOf(name);
    const tracks = participants[0]?.tracks ?? [];
    const camera = tracks.find((track) => track.type === "VIDEO");
    await deliver({
      event: "track_published",
      room: name,
      roomSid: room.sid,
      participant: { sid: participants[0]?.sid ?? "", identity: "bo", kind: "standard" },
      track: { sid: camera?.sid ?? "", type: "video" },
    });
    const video = await eventually(async () => (await recordingsOf(name))[0]);
    await untilActive(harness, video.id);
    // The microphone's track_published never came: the reconciler finds it.
    await reconcile();
    const both = await eventually(async () => {
      const found = await recordingsOf(name);
      return found.length === 2 ? found : undefined;
    });
    const byKind = Object.fromEntries(both.map((entry) => [entry.kind, entry]));
    expect(byKind.video?.source).toEqual({ type: "track", trackId: camera?.sid });
    expect(byKind.audio?.profile).toBeNull();
    const audio = await untilActive(harness, byKind.audio?.id ?? "");
    expect(audio.output?.file?.key).toMatch(/\.ogg$/);
    const active = await untilActive(harness, video.id);
    expect(active.output?.file?.key).toMatch(/\.webm$/);
    await closeRoom(name);
  });
});
