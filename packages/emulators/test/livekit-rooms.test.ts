// The LiveKit emulator's unkind parts, each as livekit-server and livekit/egress do it: rooms
// must exist, a room composite waits for its start signal, a room that closes ends its
// egresses, a full fleet refuses late, ended egresses are forgotten.
import { scaled } from "@recfleet/testing";
import {
  AccessToken,
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  RoomServiceClient,
  ServerError,
  type WebhookEvent,
  WebhookReceiver,
} from "livekit-server-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { failure, startWebhookSink, untilEgressStatus, type WebhookSink, waitFor } from "./egress-support.ts";

let sink: WebhookSink;
let emulator: LiveKitEmulator;
let egress: EgressClient;
let rooms: RoomServiceClient;
let receiver: WebhookReceiver;

const mp4 = (filepath: string) => new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath });
const ogg = (filepath: string) => new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath });

beforeAll(async () => {
  sink = await startWebhookSink();
  emulator = await startLiveKitEmulator({
    activationDelayMs: 20,
    webhookUrl: sink.url,
    departureTimeoutMs: 200,
    endedRetentionMs: 60_000,
    logLevel: "error",
  });
  egress = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
  rooms = new RoomServiceClient(emulator.url, emulator.apiKey, emulator.apiSecret);
  receiver = new WebhookReceiver(emulator.apiKey, emulator.apiSecret);
});

afterEach(async () => {
  await emulator.idle();
  emulator.reset();
  sink.received.length = 0;
});

afterAll(async () => {
  await emulator.close();
  await sink.close();
});

async function events(): Promise<WebhookEvent[]> {
  await emulator.idle();
  return Promise.all(sink.received.map((webhook) => receiver.receive(webhook.body, webhook.authorization)));
}

async function statusOf(egressId: string): Promise<EgressStatus | undefined> {
  return (await egress.listEgress({ egressId }))[0]?.status;
}

const untilStatus = (egressId: string, status: EgressStatus) => untilEgressStatus(egress, egressId, status);

/** The egress is still STARTING after several activation delays: nothing is going to move it. */
async function stillStarting(egressId: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await statusOf(egressId)).toBe(EgressStatus.EGRESS_STARTING);
}

describe("rooms must exist", () => {
  it("answers a Start for a room that does not exist 404 not_found, before asking any egress", async () => {
    emulator.setFaults({ capacity: 0 });
    const error = await failure(egress.startRoomCompositeEgress("nowhere", { file: mp4("x.mp4") }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 404, code: "not_found", message: "requested room does not exist" });
    expect(emulator.egresses()).toEqual([]);
  });

  it("takes the room once CreateRoom made it, and reports the room's sid", async () => {
    const room = await rooms.createRoom({ name: "made", emptyTimeout: 60 });
    expect(room).toMatchObject({ name: "made", emptyTimeout: 60, departureTimeout: 1, numParticipants: 0 });
    expect(room.sid).toMatch(/^RM_/);
    const again = await rooms.createRoom({ name: "made" });
    expect(again.sid).toBe(room.sid);
    const info = await egress.startRoomCompositeEgress("made", { file: mp4("made.mp4") });
    expect(info.roomId).toBe(room.sid);
  });
});

describe("the sandbox's autoRoom", () => {
  it("answers the real 404 first and opens the room, with someone publishing, a moment later", async () => {
    const sandbox = await startLiveKitEmulator({
      autoRoom: true,
      autoRoomDelayMs: 100,
      activationDelayMs: 0,
      logLevel: "error",
    });
    try {
      const client = new EgressClient(sandbox.url, sandbox.apiKey, sandbox.apiSecret);
      expect(
        await failure(client.startRoomCompositeEgress("later", { file: mp4("later.mp4") })),
      ).toMatchObject({
        status: 404,
        message: "requested room does not exist",
      });
      const started = await waitFor(async () => {
        try {
          return await client.startRoomCompositeEgress("later", { file: mp4("later.mp4") });
        } catch {
          return undefined;
        }
      });
      await waitFor(async () =>
        (await client.listEgress({ egressId: started.egressId }))[0]?.status === EgressStatus.EGRESS_ACTIVE
          ? true
          : undefined,
      );
      expect(sandbox.rooms()[0]?.participants.map((p) => p.identity)).toEqual(["sandbox-speaker"]);
    } finally {
      await sandbox.close();
    }
  });
});

describe("RoomService", () => {
  it("lists rooms and participants, removes a participant and deletes a room, as the SDK calls them", async () => {
    emulator.join("r1", { identity: "alice", publish: ["microphone", "camera"] });
    emulator.join("r1", { identity: "bob" });
    await rooms.createRoom({ name: "r2" });
    expect((await rooms.listRooms()).map((room) => room.name).sort()).toEqual(["r1", "r2"]);
    expect((await rooms.listRooms(["r2"])).map((room) => room.name)).toEqual(["r2"]);
    const [r1] = await rooms.listRooms(["r1"]);
    expect(r1).toMatchObject({ numParticipants: 2, numPublishers: 1 });

    const participants = await rooms.listParticipants("r1");
    expect(participants.map((p) => [p.identity, p.tracks.map((t) => t.source)])).toEqual([
      ["alice", [2, 1]],
      ["bob", []],
    ]);
    await rooms.removeParticipant("r1", "bob");
    expect((await rooms.listParticipants("r1")).map((p) => p.identity)).toEqual(["alice"]);
    expect(await failure(rooms.removeParticipant("r1", "bob"))).toMatchObject({
      status: 404,
      code: "not_found",
      message: "participant does not exist",
    });

    await rooms.deleteRoom("r2");
    expect(await failure(rooms.deleteRoom("r2"))).toMatchObject({
      status: 404,
      message: "requested room does not exist",
    });
  });

  it("asks each method for LiveKit's grant: a recording token cannot create rooms", async () => {
    const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
    token.addGrant({ roomRecord: true });
    const response = await fetch(`${emulator.url}/twirp/livekit.RoomService/CreateRoom`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token.toJwt()}` },
      body: JSON.stringify({ name: "nope" }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: "unauthenticated", msg: "permissions denied" });
    const admin = new AccessToken(emulator.apiKey, emulator.apiSecret);
    admin.addGrant({ roomAdmin: true, room: "other" });
    const list = await fetch(`${emulator.url}/twirp/livekit.RoomService/ListParticipants`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await admin.toJwt()}` },
      body: JSON.stringify({ room: "nope" }),
    });
    expect(list.status).toBe(401);
  });
});

describe("room webhooks", () => {
  it("sends room_started, participant_joined, track_published/unpublished, participant_left and room_finished, signed", async () => {
    emulator.join("hooks", { identity: "carol", publish: ["camera"] });
    emulator.unpublish("hooks", "carol", "camera");
    emulator.leave("hooks", "carol");
    // The room closes departureTimeout (200 ms) after the last participant left.
    await waitFor(async () => ((await rooms.listRooms(["hooks"])).length === 0 ? true : undefined));
    const received = await events();
    expect(received.map((event) => event.event)).toEqual([
      "room_started",
      "participant_joined",
      "track_published",
      "track_unpublished",
      "participant_left",
      "room_finished",
    ]);
    expect(received.every((event) => event.room?.name === "hooks" && event.room.sid.startsWith("RM_"))).toBe(
      true,
    );
    expect(received[1]?.participant?.identity).toBe("carol");
    expect(received[2]?.track).toMatchObject({ source: 1, type: 1 });
    expect(received.every((event) => /^EV_/.test(event.id))).toBe(true);
  });

  it("egress events carry the room's sid and name", async () => {
    const room = await rooms.createRoom({ name: "carry" });
    emulator.join("carry", { identity: "dave", publish: ["microphone"] });
    const info = await egress.startRoomCompositeEgress("carry", { file: mp4("carry.mp4") });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
    const started = (await events()).find((event) => event.event === "egress_started");
    expect(started?.room).toMatchObject({ sid: room.sid, name: "carry" });
  });

  it("closes a room nobody joined after its empty timeout", async () => {
    await rooms.createRoom({ name: "empty", emptyTimeout: 1 });
    await waitFor(async () => ((await rooms.listRooms(["empty"])).length === 0 ? true : undefined), 5000);
    expect((await events()).map((event) => event.event)).toEqual(["room_started", "room_finished"]);
  });
});

describe("the start signal", () => {
  it("keeps a room composite STARTING until someone publishes, then records", async () => {
    await rooms.createRoom({ name: "quiet" });
    emulator.join("quiet", { identity: "listener" });
    const info = await egress.startRoomCompositeEgress("quiet", { file: mp4("quiet.mp4") });
    expect(info.startedAt).toBeGreaterThan(0n);
    await stillStarting(info.egressId);
    emulator.publish("quiet", "listener", { source: "camera", muted: true });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
  });

  it("waits for an audio track for an audio-only recording", async () => {
    emulator.join("talk", { identity: "erin", publish: ["camera"] });
    const info = await egress.startRoomCompositeEgress(
      "talk",
      { file: ogg("talk.ogg") },
      { audioOnly: true },
    );
    await stillStarting(info.egressId);
    emulator.publish("talk", "erin", { source: "microphone" });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
  });

  it("aborts one stopped before the signal: Start signal not received, nothing uploaded", async () => {
    emulator.join("nobody", { identity: "frank" });
    const info = await egress.startRoomCompositeEgress("nobody", { file: mp4("nobody.mp4") });
    await stillStarting(info.egressId);
    await egress.stopEgress(info.egressId);
    const [ended] = await egress.listEgress({ egressId: info.egressId });
    expect(ended).toMatchObject({
      status: EgressStatus.EGRESS_ABORTED,
      error: "Start signal not received",
      errorCode: 412,
      details: "End reason: StopEgress API",
    });
    expect(emulator.egress(info.egressId)?.upload).toBeNull();
  });

  it("aborts one whose session limit comes before the signal", async () => {
    emulator.setFaults({ maxDurationMs: 100 });
    emulator.join("limit", { identity: "gina" });
    const info = await egress.startRoomCompositeEgress("limit", { file: mp4("limit.mp4") });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ABORTED);
    expect((await egress.listEgress({ egressId: info.egressId }))[0]?.error).toBe(
      "Session limit reached before start signal",
    );
  });
});

describe("a room that closes", () => {
  it("ends a recording egress normally with its file, and aborts one still waiting for its signal", async () => {
    emulator.join("closing", { identity: "hank", publish: ["microphone", "camera"] });
    emulator.join("silent", { identity: "ivy" });
    const recording = await egress.startRoomCompositeEgress("closing", { file: mp4("closing.mp4") });
    const waiting = await egress.startRoomCompositeEgress("silent", { file: mp4("silent.mp4") });
    await untilStatus(recording.egressId, EgressStatus.EGRESS_ACTIVE);
    await rooms.deleteRoom("closing");
    await rooms.deleteRoom("silent");
    await emulator.idle();
    const [done] = await egress.listEgress({ egressId: recording.egressId });
    expect(done).toMatchObject({
      status: EgressStatus.EGRESS_COMPLETE,
      details: "End reason: Source closed",
    });
    expect(done?.fileResults[0]?.filename).toBe("closing.mp4");
    const [aborted] = await egress.listEgress({ egressId: waiting.egressId });
    expect(aborted).toMatchObject({
      status: EgressStatus.EGRESS_ABORTED,
      error: "Start signal not received",
      details: "End reason: Source closed",
    });
    const names = (await events()).map((event) => event.event);
    expect(names.filter((name) => name === "room_finished")).toHaveLength(2);
  });
});

describe("a full fleet", () => {
  it(
    "answers 503 unavailable only after livekit-server's retries (20 s by default), so the SDK times out first",
    async () => {
      emulator.setFaults({ capacity: 0 });
      emulator.join("busy", { identity: "jack", publish: ["camera"] });
      const impatient = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret, {
        requestTimeout: 2,
      });
      const timedOut = await failure(impatient.startRoomCompositeEgress("busy", { file: mp4("busy.mp4") }));
      expect(timedOut.name).toBe("TimeoutError");

      const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
      token.addGrant({ roomRecord: true });
      const sent = Date.now();
      const response = await fetch(`${emulator.url}/twirp/livekit.Egress/StartRoomCompositeEgress`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token.toJwt()}` },
        body: JSON.stringify({ roomName: "busy", fileOutputs: [{ filepath: "busy.mp4" }] }),
      });
      expect(Date.now() - sent).toBeGreaterThanOrEqual(20_000);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ code: "unavailable", msg: "no response from servers" });
      expect(emulator.egresses()).toEqual([]);
    },
    scaled(40_000),
  );
});

describe("LiveKit forgets egresses", () => {
  it("answers 404 egress does not exist for an ended egress once it is purged", async () => {
    emulator.join("gone", { identity: "kim", publish: ["camera"] });
    const info = await egress.startRoomCompositeEgress("gone", { file: mp4("gone.mp4") });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
    await egress.stopEgress(info.egressId);
    await emulator.idle();
    expect(emulator.forgetEgresses(false)).toBe(1);
    const notFound = { status: 404, code: "not_found", message: "egress does not exist" };
    expect(await failure(egress.listEgress({ egressId: info.egressId }))).toMatchObject(notFound);
    expect(await failure(egress.stopEgress(info.egressId))).toMatchObject(notFound);
    expect(await egress.listEgress({ roomName: "gone" })).toEqual([]);
  });

  it("purges ended egresses by itself after the retention time", async () => {
    const quick = await startLiveKitEmulator({
      activationDelayMs: 0,
      endedRetentionMs: 100,
      logLevel: "error",
    });
    try {
      quick.join("brief", { identity: "lee", publish: ["camera"] });
      const client = new EgressClient(quick.url, quick.apiKey, quick.apiSecret);
      const info = await client.startRoomCompositeEgress("brief", { file: mp4("brief.mp4") });
      await client.stopEgress(info.egressId);
      await waitFor(async () => {
        try {
          await client.listEgress({ egressId: info.egressId });
          return undefined;
        } catch (error) {
          return (error as Error).message === "egress does not exist" ? true : undefined;
        }
      });
    } finally {
      await quick.close();
    }
  });

  it("still stops a running egress it forgot: StopEgress reaches the egress' own instance first", async () => {
    emulator.join("amnesia-stop", { identity: "ana", publish: ["camera"] });
    const info = await egress.startRoomCompositeEgress("amnesia-stop", { file: mp4("amnesia-stop.mp4") });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
    expect(emulator.forgetEgresses(true)).toBe(1);
    expect(await failure(egress.listEgress({ egressId: info.egressId }))).toMatchObject({ status: 404 });
    const stopping = await egress.stopEgress(info.egressId);
    expect(stopping.status).toBe(EgressStatus.EGRESS_ENDING);
    await untilStatus(info.egressId, EgressStatus.EGRESS_COMPLETE);
    const ended = (await events()).filter((event) => event.event === "egress_ended");
    expect(ended.map((event) => event.egressInfo?.egressId)).toEqual([info.egressId]);
  });

  it("answers 404 to StopEgress for a forgotten egress whose instance died", async () => {
    emulator.join("amnesia-dead", { identity: "bo", publish: ["camera"] });
    const info = await egress.startRoomCompositeEgress("amnesia-dead", { file: mp4("amnesia-dead.mp4") });
    await untilStatus(info.egressId, EgressStatus.EGRESS_ACTIVE);
    emulator.crashEgress(info.egressId);
    expect(await failure(egress.stopEgress(info.egressId))).toMatchObject({ status: 408 });
    emulator.forgetEgresses(true);
    expect(await failure(egress.stopEgress(info.egressId))).toMatchObject({
      status: 404,
      message: "egress does not exist",
    });
  });

  it("loses running egresses with its data; one reappears when it next reports", async () => {
    emulator.join("amnesia", { identity: "mo" });
    const info = await egress.startRoomCompositeEgress("amnesia", { file: mp4("amnesia.mp4") });
    expect(emulator.forgetEgresses(true)).toBe(1);
    expect(await failure(egress.listEgress({ egressId: info.egressId }))).toMatchObject({ status: 404 });
    expect(await egress.listEgress({ active: true })).toEqual([]);
    emulator.publish("amnesia", "mo", { source: "microphone" });
    // Going ACTIVE is its next report: it is stored again.
    await waitFor(async () => {
      const [found] = await egress.listEgress({ active: true });
      return found?.status === EgressStatus.EGRESS_ACTIVE ? found : undefined;
    });
    expect(await statusOf(info.egressId)).toBe(EgressStatus.EGRESS_ACTIVE);
  });
});
