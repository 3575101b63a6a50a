import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProfileCatalog } from "@recfleet/config";
import { egressEncodingFor } from "@recfleet/config/egress";
import { type Receiver, scaled, secretOf, startReceiver } from "@recfleet/testing";
import { Redis } from "ioredis";
import jpeg from "jpeg-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingView, startTestFleet, type TestFleet } from "../src/harness.ts";

let fleet: TestFleet;
/** The brief tenant's callback endpoint: it refuses each event once, then takes it. */
let receiver: Receiver;
const BRIEF_SECRET = secretOf(11);
const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });
/** A tenant whose recordings' files are kept 0.0002 days (17 s) once saved. */
const BRIEF_KEY = "e2e-brief-tenant-key-0123456789";

beforeAll(async () => {
  const tenantsFile = join(mkdtempSync(join(tmpdir(), "recfleet-e2e-tenants-")), "tenants.json");
  receiver = await startReceiver(BRIEF_SECRET, (_id, earlier) => ({ status: earlier === 0 ? 503 : 204 }));
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      tenants: {
        brief: {
          keys: [BRIEF_KEY],
          expireDays: 0.0002,
          callback: { url: receiver.url, secret: BRIEF_SECRET },
        },
      },
    }),
  );
  const rulesFile = join(mkdtempSync(join(tmpdir(), "recfleet-e2e-rules-")), "rules.json");
  writeFileSync(
    rulesFile,
    JSON.stringify({
      rules: [
        {
          name: "e2e-courses",
          match: "e2e-auto-*",
          trigger: "room_started",
          profile: "minimum-cpu",
          notify: { email: "teacher@example.com" },
        },
      ],
    }),
  );
  fleet = await startTestFleet({ env: { TENANTS_FILE: tenantsFile, AUTO_RECORD_FILE: rulesFile } });
}, scaled(120_000));
afterAll(async () => {
  await fleet?.stop();
  await receiver?.close();
});

/** Opens each room with someone publishing (a meeting under way), then asks to record it. */
async function startRecordings(specs: { room: string; kind: "video" | "audio"; profile: string }[]) {
  for (const spec of specs) await fleet.openRoom(spec.room);
  const answers = await Promise.all(
    specs.map((spec) =>
      fleet.api<RecordingView>("POST", "/v1/recordings", {
        ...spec,
        notify: { email: `${spec.room}@example.com` },
      }),
    ),
  );
  for (const answer of answers) expect(answer.status).toBe(202);
  return answers.map((answer) => answer.body);
}

async function stopAll(recordings: RecordingView[]) {
  for (const recording of recordings)
    expect((await fleet.api("POST", `/v1/recordings/${recording.id}/stop`)).status).toBe(202);
}

/** Every value in Redis as text, whatever its type: to check what it does not hold. */
async function everyRedisValue(url: string): Promise<string> {
  const redis = new Redis(url);
  try {
    const parts: string[] = [];
    for (const key of await redis.keys("*")) {
      const type = await redis.type(key);
      if (type === "string") parts.push((await redis.get(key)) ?? "");
      else if (type === "hash") parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === "list") parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === "set") parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === "zset") parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === "stream") parts.push(JSON.stringify(await redis.xrange(key, "-", "+")));
      parts.push(key);
    }
    return parts.join("\n");
  } finally {
    redis.disconnect();
  }
}

/** Polls `check` until it answers a value, or fails saying what it waited for. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function linkIn(text: string): string {
  const link = /https?:\/\/[^\s]+/.exec(text.slice(text.indexOf("http")))?.[0];
  if (!link) throw new Error(`no link in:\n${text}`);
  return link;
}

/** Lets a recording record until it is active, stops it, and answers it once its owner was told. */
async function recordThenStop(id: string): Promise<RecordingView> {
  await fleet.waitFor(id, "active");
  expect((await fleet.api("POST", `/v1/recordings/${id}/stop`)).status).toBe(202);
  return fleet.waitFor(id, "notified");
}

/** The bytes behind the link of a saved recording's email, as its owner would download them. */
async function downloadFromEmail(id: string): Promise<Buffer> {
  const mail = (await fleet.mails()).find((entry) => entry.messageId === `<saved.${id}@sandbox.localhost>`);
  return Buffer.from(await (await fetch(linkIn(await fleet.mailText(mail?.id ?? "")))).arrayBuffer());
}

/** The body of the first Start request of this method the LiveKit emulator received that matches. */
async function startRequest(method: string, matches: (body: Record<string, unknown>) => boolean) {
  const { requests } = await fleet.livekitAdmin<{
    requests: { method: string; body: Record<string, unknown> }[];
  }>("/requests");
  return requests.find((request) => request.method === method && matches(request.body))?.body;
}

describe("the whole fleet, through the public API only", () => {
  it(
    "records 20 concurrent recordings of mixed kinds and profiles, emails each, and each link downloads its file",
    async () => {
      const names = ["default", "balanced", "low-cpu", "slide-heavy", "minimum-cpu", "audio-heavy"];
      const specs = Array.from({ length: 20 }, (_, i) => ({
        room: `e2e-room-${i}`,
        kind: i % 3 === 0 ? ("audio" as const) : ("video" as const),
        profile: names[i % names.length] ?? "low-cpu",
      }));
      const recordings = await startRecordings(specs);
      for (const recording of recordings) await fleet.waitFor(recording.id, "active");
      await stopAll(recordings);
      const notified = await Promise.all(
        recordings.map((recording) => fleet.waitFor(recording.id, "notified")),
      );

      const mails = await fleet.mails();
      for (const recording of notified) {
        const mail = mails.filter((entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`);
        expect(mail).toHaveLength(1);
        const link = linkIn(await fleet.mailText(mail[0]?.id ?? ""));
        const downloaded = Buffer.from(await (await fetch(link)).arrayBuffer());
        const stored = Buffer.concat(
          await (await fleet.minio.getObject(fleet.info.s3.bucket, recording.file?.key ?? "")).toArray(),
        );
        expect(downloaded.equals(stored)).toBe(true);
        expect(recording.file?.key).toBe(
          `recordings/${recording.id}.${recording.kind === "audio" ? "ogg" : "mp4"}`,
        );
      }

      const { requests } = await fleet.livekitAdmin<{
        requests: { method: string; status: number; body: Record<string, unknown> }[];
      }>("/requests");
      // Only this test's rooms: the other tests share the fleet and may have run before.
      const rooms = new Set(specs.map((spec) => spec.room));
      const starts = requests.filter(
        (request) =>
          request.method === "StartRoomCompositeEgress" && rooms.has(String(request.body.roomName)),
      );
      expect(starts).toHaveLength(20);
      for (const recording of notified) {
        const [start] = starts.filter((request) => request.body.roomName === recording.room);
        expect(start?.status).toBe(200);
        const profile = profiles.get(recording.profile ?? "");
        if (!profile) throw new Error(`unknown profile ${recording.profile}`);
        const expected = egressEncodingFor(profile, recording.kind).encodingOptions;
        if (expected === undefined) expect(start?.body).not.toHaveProperty("advanced");
        else if (typeof expected === "number") expect(start?.body.preset).toBeDefined();
        else expect(start?.body.advanced).toEqual(expected.toJson());
        expect(Boolean(start?.body.audioOnly)).toBe(recording.kind === "audio");
      }
    },
    scaled(180_000),
  );

  it(
    "records two participants of one room apart, each to its own file, through a participant egress",
    async () => {
      const room = "e2e-participants";
      await fleet.openRoom(room, { identity: "alice" });
      await fleet.openRoom(room, { identity: "bob" });
      const started = await Promise.all(
        ["alice", "bob"].map((identity) =>
          fleet.api<RecordingView & { source: unknown }>("POST", "/v1/recordings", {
            room,
            source: { type: "participant", identity, screenShare: identity === "bob" },
            profile: "minimum-cpu",
            notify: { email: `${identity}@example.com` },
          }),
        ),
      );
      for (const answer of started) expect(answer.status).toBe(202);
      const recordings = started.map((answer) => answer.body);
      for (const recording of recordings) await fleet.waitFor(recording.id, "active");
      await stopAll(recordings);
      for (const recording of recordings) {
        const notified = await fleet.waitFor(recording.id, "notified");
        expect(notified.file?.key).toBe(`recordings/${recording.id}.mp4`);
        const mail = (await fleet.mails()).find(
          (entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`,
        );
        const link = linkIn(await fleet.mailText(mail?.id ?? ""));
        expect((await fetch(link)).status).toBe(200);
      }
      const { requests } = await fleet.livekitAdmin<{
        requests: { method: string; status: number; body: Record<string, unknown> }[];
      }>("/requests");
      const starts = requests.filter(
        (request) => request.method === "StartParticipantEgress" && request.body.roomName === room,
      );
      expect(
        starts
          .map((request) => [request.body.identity, Boolean(request.body.screenShare), request.status])
          .sort(),
      ).toEqual([
        ["alice", false, 200],
        ["bob", true, 200],
      ]);
      // The profile's options went with each.
      const minimum = profiles.get("minimum-cpu");
      if (!minimum) throw new Error("no minimum-cpu profile");
      const expected = egressEncodingFor(minimum, "video").encodingOptions;
      for (const start of starts)
        expect(start.body.advanced).toEqual((expected as { toJson(): unknown }).toJson());
    },
    scaled(120_000),
  );

  it(
    "records a participant to a file, HLS and thumbnails at once: every segment the playlist lists is stored, every thumbnail is a JPEG, deletion removes them all",
    async () => {
      const room = "e2e-hls";
      await fleet.openRoom(room, { identity: "carol" });
      const created = await fleet.api<RecordingView & { outputs: unknown }>("POST", "/v1/recordings", {
        room,
        source: { type: "participant", identity: "carol" },
        outputs: [
          { type: "file" },
          { type: "hls", segmentSeconds: 1, livePlaylist: true },
          { type: "images", intervalSeconds: 1, width: 320, height: 180 },
        ],
        profile: "minimum-cpu",
        notify: { email: "carol@example.com" },
      });
      expect(created.status).toBe(202);
      expect(created.body.outputs).toEqual([
        { type: "file", format: "mp4" },
        { type: "hls", segmentSeconds: 1, livePlaylist: true },
        { type: "images", intervalSeconds: 1, width: 320, height: 180 },
      ]);
      const { id } = created.body;
      const dir = `recordings/${id}/`;
      await fleet.waitFor(id, "active");
      const keysIn = async (prefix: string) => {
        const keys: string[] = [];
        for await (const item of fleet.minio.listObjectsV2(fleet.info.s3.bucket, prefix, true)) {
          if (item.name) keys.push(item.name);
        }
        return keys.sort();
      };
      // Segments land while it records: wait for three before stopping.
      const deadline = Date.now() + scaled(30_000);
      while ((await keysIn(`${dir}seg_`)).length < 3) {
        if (Date.now() > deadline) throw new Error("no segments while recording");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await fleet.api("POST", `/v1/recordings/${id}/stop`)).status).toBe(202);
      const notified = await fleet.waitFor(id, "notified");
      const read = async (key: string) =>
        Buffer.concat(await (await fleet.minio.getObject(fleet.info.s3.bucket, key)).toArray());

      const playlist = (await read(`${dir}playlist.m3u8`)).toString("utf8");
      expect(playlist.endsWith("#EXT-X-ENDLIST\n")).toBe(true);
      const listed = playlist.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
      expect(listed.length).toBeGreaterThanOrEqual(4);
      const stored = await keysIn(dir);
      for (const name of listed) expect(stored).toContain(`${dir}${name}`);
      const thumbnails = stored.filter((key) => key.endsWith(".jpeg"));
      expect(thumbnails.length).toBeGreaterThanOrEqual(3);
      for (const key of thumbnails) {
        const image = jpeg.decode(await read(key));
        expect([image.width, image.height]).toEqual([320, 180]);
      }
      expect(notified.file?.key).toBe(`recordings/${id}.mp4`);
      expect(notified.artifacts.map((artifact) => [artifact.type, artifact.key, artifact.count])).toEqual([
        ["file", `recordings/${id}.mp4`, null],
        ["playlist", `${dir}playlist.m3u8`, listed.length],
        ["live-playlist", `${dir}live.m3u8`, null],
        ["images", `${dir}${notified.egressId}.json`, thumbnails.length],
      ]);

      // The email links the file, and lists the playlists and the thumbnails' index with theirs.
      const mail = (await fleet.mails()).find(
        (entry) => entry.messageId === `<saved.${id}@sandbox.localhost>`,
      );
      const text = await fleet.mailText(mail?.id ?? "");
      const linkAfter = (label: string) => {
        const at = text.indexOf(label);
        expect(at, `"${label}" in:\n${text}`).toBeGreaterThan(-1);
        return linkIn(text.slice(at));
      };
      const playlistLink = linkAfter(`HLS playlist (${listed.length} segments)`);
      expect((await (await fetch(playlistLink)).text()).endsWith("#EXT-X-ENDLIST\n")).toBe(true);
      const imagesLink = linkAfter(`Thumbnails (${thumbnails.length} images)`);
      expect(((await (await fetch(imagesLink)).json()) as { images: unknown[] }).images).toHaveLength(
        thumbnails.length,
      );

      const { requests } = await fleet.livekitAdmin<{
        requests: { method: string; body: Record<string, unknown> }[];
      }>("/requests");
      const start = requests.find(
        (request) => request.method === "StartParticipantEgress" && request.body.roomName === room,
      );
      expect(start?.body.segmentOutputs).toMatchObject([
        { playlistName: `${dir}playlist.m3u8`, livePlaylistName: `${dir}live.m3u8`, segmentDuration: 1 },
      ]);
      expect(start?.body.imageOutputs).toMatchObject([{ captureInterval: 1, width: 320, height: 180 }]);

      expect((await fleet.api("DELETE", `/v1/recordings/${id}`)).status).toBeLessThan(300);
      await fleet.waitFor(id, "deleted");
      expect(await keysIn(dir)).toEqual([]);
      expect(await keysIn(`recordings/${id}.mp4`)).toEqual([]);
    },
    scaled(120_000),
  );

  it(
    "records chosen tracks of a room (a track composite of one participant's microphone and another's camera) to one MP4",
    async () => {
      const room = "e2e-tracks";
      await fleet.openRoom(room, { identity: "eve" });
      await fleet.livekitAdmin(`/rooms/${room}/participants`, { identity: "fay", publish: ["camera"] });
      const { rooms } = await fleet.livekitAdmin<{
        rooms: {
          room: { name: string };
          participants: { identity: string; tracks: { sid: string; type: string }[] }[];
        }[];
      }>("/rooms");
      const people = rooms.find((entry) => entry.room.name === room)?.participants ?? [];
      const trackOf = (identity: string, type: string) =>
        people.find((person) => person.identity === identity)?.tracks.find((track) => track.type === type)
          ?.sid;
      const audioTrackId = trackOf("eve", "AUDIO");
      const videoTrackId = trackOf("fay", "VIDEO");
      const created = await fleet.api<RecordingView & { source: unknown }>("POST", "/v1/recordings", {
        room,
        source: { type: "tracks", audioTrackId, videoTrackId },
        notify: { email: "eve@example.com" },
      });
      expect(created.status).toBe(202);
      expect(created.body.source).toEqual({ type: "tracks", audioTrackId, videoTrackId });
      const { id } = created.body;
      const notified = await recordThenStop(id);
      expect(notified.file?.key).toBe(`recordings/${id}.mp4`);
      // An MP4 starts with its ftyp box.
      expect((await downloadFromEmail(id)).subarray(4, 8).toString("latin1")).toBe("ftyp");
      const start = await startRequest("StartTrackCompositeEgress", (body) => body.roomName === room);
      expect(start).toMatchObject({ audioTrackId, videoTrackId });
    },
    scaled(120_000),
  );

  it(
    "shares a saved recording: its watch page plays the file through short presigned redirects that seek, until the link is revoked",
    async () => {
      const room = "e2e-share";
      await fleet.openRoom(room);
      const created = await fleet.api<RecordingView>("POST", "/v1/recordings", { room });
      const notified = await recordThenStop(created.body.id);
      const shared = await fleet.api<{ id: string; url: string }>(
        "POST",
        `/v1/recordings/${notified.id}/shares`,
        {
          note: "e2e",
        },
      );
      expect(shared.status).toBe(201);
      const page = await fetch(shared.body.url, { redirect: "manual" });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`<h1>${room}</h1>`);
      const file = await fetch(`${shared.body.url}/file`, { redirect: "manual" });
      expect(file.status).toBe(302);
      const stored = Buffer.concat(
        await (await fleet.minio.getObject(fleet.info.s3.bucket, notified.file?.key ?? "")).toArray(),
      );
      const ranged = await fetch(file.headers.get("location") ?? "", { headers: { range: "bytes=16-31" } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(stored.subarray(16, 32))).toBe(true);
      expect(
        (await fleet.api("DELETE", `/v1/recordings/${notified.id}/shares/${shared.body.id}`)).status,
      ).toBe(204);
      expect((await fetch(shared.body.url, { redirect: "manual" })).status).toBe(410);
    },
    scaled(120_000),
  );

  it(
    "records one track as published, in its codec's container (VP8: WebM), with no encoding asked of egress, and emails its link",
    async () => {
      const room = "e2e-track";
      await fleet.openRoom(room, { identity: "dora" });
      const rooms = await fleet.livekitAdmin<{
        rooms: {
          room: { name: string };
          participants: { tracks: { sid: string; type: string; mime_type: string }[] }[];
        }[];
      }>("/rooms");
      const camera = rooms.rooms
        .find((entry) => entry.room.name === room)
        ?.participants[0]?.tracks.find((track) => track.type === "VIDEO");
      expect(camera?.mime_type).toBe("video/VP8");
      const created = await fleet.api<RecordingView & { outputs: unknown }>("POST", "/v1/recordings", {
        room,
        source: { type: "track", trackId: camera?.sid },
        notify: { email: "dora@example.com" },
      });
      expect(created.status).toBe(202);
      expect(created.body.profile).toBeNull();
      const { id } = created.body;
      const notified = await recordThenStop(id);
      expect(notified.file).toMatchObject({ key: `recordings/${id}.webm`, contentType: "video/webm" });
      // EBML's magic: what a WebM file starts with.
      expect((await downloadFromEmail(id)).subarray(0, 4).toString("hex")).toBe("1a45dfa3");
      const start = await startRequest("StartTrackEgress", (body) => body.roomName === room);
      expect(start).toMatchObject({ trackId: camera?.sid, file: { filepath: `recordings/${id}.webm` } });
      expect(start).not.toHaveProperty("advanced");
      expect(start).not.toHaveProperty("preset");
    },
    scaled(120_000),
  );

  it(
    "records a web page from the operator's allow-list in no LiveKit room, and refuses one outside it",
    async () => {
      const page = fleet.info.mailUrl;
      const refused = await fleet.api<{ errors: { pointer: string; message: string }[] }>(
        "POST",
        "/v1/recordings",
        {
          room: "e2e-web",
          source: { type: "web", url: "http://169.254.169.254/latest/meta-data/" },
        },
      );
      expect(refused.status).toBe(400);
      expect(refused.body.errors.map((error) => `${error.pointer} ${error.message}`)).toEqual([
        `/source/url must start with one of ${page}`,
      ]);
      const created = await fleet.api<RecordingView>("POST", "/v1/recordings", {
        room: "e2e-web",
        source: { type: "web", url: page },
        notify: { email: "ops@example.com" },
      });
      expect(created.status).toBe(202);
      const { id } = created.body;
      const notified = await recordThenStop(id);
      expect(notified.file?.key).toBe(`recordings/${id}.mp4`);
      expect((await downloadFromEmail(id)).subarray(4, 8).toString("latin1")).toBe("ftyp");
      const start = await startRequest("StartWebEgress", (body) => body.url === page);
      expect(start).toBeDefined();
      expect(start).not.toHaveProperty("roomName");
      const { egresses } = await fleet.livekitAdmin<{ egresses: { info: Record<string, unknown> }[] }>(
        "/egresses",
      );
      const egress = egresses.find((entry) => entry.info.egress_id === notified.egressId);
      expect(egress?.info).toMatchObject({ room_name: "", source_type: "EGRESS_SOURCE_TYPE_WEB" });
    },
    scaled(120_000),
  );

  it(
    "records a room by itself when it starts: one recording whatever LiveKit re-sends, saved and emailed when the room finishes; a room whose room_started never came is started by the reconciler",
    async () => {
      type Listed = { items: (RecordingView & { trigger: Record<string, unknown> | null })[] };
      const recordingsOf = async (room: string) =>
        (await fleet.api<Listed>("GET", `/v1/recordings?room=${room}`)).body.items;
      type Delivery = { id: string; event: string; room: string | null; outcome: string };
      const deliveries = async () =>
        (await fleet.livekitAdmin<{ deliveries: Delivery[] }>("/webhooks")).deliveries;
      const redis = new Redis(fleet.info.redisUrl);
      /** LiveKit sends the room's room_started again; answers once the recorder has handled it. */
      const resendRoomStarted = async (room: string) => {
        const started = (await deliveries()).find(
          (entry) => entry.event === "room_started" && entry.room === room,
        );
        if (!started) throw new Error(`no room_started webhook for ${room}`);
        const before = (await deliveries()).filter((entry) => entry.id === started.id).length;
        await fleet.livekitAdmin(`/webhooks/${started.id}/resend`, {});
        await until("the resent room_started to reach the API", async () => {
          const sent = (await deliveries()).filter(
            (entry) => entry.id === started.id && entry.outcome === "sent",
          );
          return sent.length > before ? true : undefined;
        });
        const jobId = `room-event-${createHash("sha256").update(started.id).digest("hex").slice(0, 32)}`;
        await until("the room event to be handled", async () =>
          (await redis.hget(`recfleet:control:${jobId}`, "finishedOn")) ? true : undefined,
        );
      };
      try {
        const room = "e2e-auto-course";
        await fleet.openRoom(room);
        const [recording] = await until("the room's recording", async () => {
          const found = await recordingsOf(room);
          return found.length > 0 ? found : undefined;
        });
        if (!recording) throw new Error("no recording");
        expect(recording.trigger).toMatchObject({ rule: "e2e-courses", event: "room_started" });
        expect(recording.profile).toBe("minimum-cpu");
        await fleet.waitFor(recording.id, "active");
        await resendRoomStarted(room);
        expect((await recordingsOf(room)).map((entry) => entry.id)).toEqual([recording.id]);

        await fleet.livekitAdmin(`/rooms/${room}`, undefined, "DELETE");
        const notified = await fleet.waitFor(recording.id, "notified");
        expect(notified.file?.key).toBe(`recordings/${recording.id}.mp4`);
        const mail = (await fleet.mails()).find(
          (entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`,
        );
        expect(mail?.to.map((to) => to.address)).toEqual(["teacher@example.com"]);
        // Delivered again after the room finished: still that one recording.
        await resendRoomStarted(room);
        expect((await recordingsOf(room)).map((entry) => entry.id)).toEqual([recording.id]);

        // LiveKit loses every webhook for a while: the reconciler reads the room from RoomService.
        const missed = "e2e-auto-missed";
        await fleet.livekitAdmin("/faults", { dropWebhooks: 1 }, "PATCH");
        try {
          await fleet.openRoom(missed);
          const [caught] = await until("the reconciler to start the room's recording", async () => {
            const found = await recordingsOf(missed);
            return found.length > 0 ? found : undefined;
          });
          expect(caught?.trigger).toMatchObject({ rule: "e2e-courses", event: "room_started" });
          await fleet.waitFor(caught?.id ?? "", "active");
        } finally {
          await fleet.livekitAdmin("/faults", { dropWebhooks: 0 }, "PATCH");
        }
        await fleet.livekitAdmin(`/rooms/${missed}`, undefined, "DELETE");
        const [caught] = await recordingsOf(missed);
        await fleet.waitFor(caught?.id ?? "", "notified");
        expect(await recordingsOf(missed)).toHaveLength(1);
      } finally {
        redis.disconnect();
      }
    },
    scaled(180_000),
  );

  it(
    "streams a room live to RTMP, adds and removes a destination while it runs, and emails that the stream ended; no stream key is ever logged",
    async () => {
      const room = "e2e-stream";
      const keys = ["e2e-key-alpha-1234", "e2e-key-bravo-5678"];
      const [first, second] = keys.map((key) => `${fleet.info.rtmpIngestUrl}/${key}`) as [string, string];
      const shown = keys.map((key) => `${fleet.info.rtmpIngestUrl}/{${key.slice(0, 3)}...${key.slice(-3)}}`);
      type Ingested = {
        keyHint: string;
        publishingSince: string | null;
        endedAt: string | null;
        mediaMessages: number;
      };
      const ingested = async () => (await fleet.livekitAdmin<{ streams: Ingested[] }>("/rtmp")).streams;
      const until = async (what: string, check: (streams: Ingested[]) => boolean) => {
        const deadline = Date.now() + scaled(30_000);
        while (!check(await ingested())) {
          if (Date.now() > deadline)
            throw new Error(`RTMP ingest: ${what}: ${JSON.stringify(await ingested())}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      const live = (hint: string) => (streams: Ingested[]) =>
        streams.some(
          (stream) => stream.keyHint === hint && stream.endedAt === null && stream.mediaMessages > 0,
        );

      await fleet.openRoom(room);
      const created = await fleet.api<RecordingView & { outputs: unknown }>("POST", "/v1/recordings", {
        room,
        outputs: [{ type: "stream", urls: [first] }],
        notify: { email: "streamer@example.com" },
      });
      expect(created.status).toBe(202);
      expect(created.body.outputs).toEqual([{ type: "stream", urls: [shown[0]] }]);
      const { id } = created.body;
      await fleet.waitFor(id, "active");
      await until("the first key live", live("e2e…234"));

      const added = await fleet.api<{ outputs: unknown }>("PATCH", `/v1/recordings/${id}`, {
        streams: { add: [second] },
      });
      expect(added.status).toBe(202);
      expect(added.body.outputs).toEqual([{ type: "stream", urls: shown }]);
      await until("the second key live", live("e2e…678"));
      const removed = await fleet.api("PATCH", `/v1/recordings/${id}`, { streams: { remove: [shown[0]] } });
      expect(removed.status).toBe(202);
      await until("the first key ended", (streams) =>
        streams.every((stream) => stream.keyHint !== "e2e…234" || stream.endedAt !== null),
      );

      expect((await fleet.api("POST", `/v1/recordings/${id}/stop`)).status).toBe(202);
      const notified = (await fleet.waitFor(id, "notified")) as RecordingView & {
        streams: { url: string; status: string }[];
      };
      expect(notified.file).toBeNull();
      expect(notified.artifacts).toEqual([]);
      expect(notified.streams.map((stream) => [stream.url, stream.status])).toEqual([
        [shown[0], "finished"],
        [shown[1], "finished"],
      ]);
      const mail = (await fleet.mails()).find(
        (entry) => entry.messageId === `<ended.${id}@sandbox.localhost>`,
      );
      expect(mail?.subject).toBe(`Your live stream of "${room}" has ended`);
      const text = await fleet.mailText(mail?.id ?? "");
      expect(text).toContain(`- ${shown[1]} (ended normally)`);

      // Nothing the fleet keeps holds a key once the recording is over: not one process' log,
      // not one Redis value (the recording, its jobs, events, markers), not the email.
      const logs = readdirSync(fleet.info.logs).map((name) =>
        readFileSync(join(fleet.info.logs, name), "utf8"),
      );
      expect(logs.length).toBeGreaterThanOrEqual(5);
      const redisText = await everyRedisValue(fleet.info.redisUrl);
      expect(redisText).toContain(shown[1]);
      for (const key of keys) {
        for (const log of logs) expect(log).not.toContain(key);
        expect(redisText).not.toContain(key);
        expect(text).not.toContain(key);
      }
    },
    scaled(120_000),
  );

  it(
    "completes every recording when the egress fleet takes one at a time",
    async () => {
      await fleet.livekitAdmin("/faults", { capacity: 1 });
      try {
        const recordings = await startRecordings(
          [0, 1, 2].map((i) => ({ room: `e2e-busy-${i}`, kind: "video" as const, profile: "low-cpu" })),
        );
        const done = new Set<string>();
        const deadline = Date.now() + scaled(90_000);
        while (done.size < recordings.length && Date.now() < deadline) {
          for (const recording of recordings) {
            if (done.has(recording.id)) continue;
            const { body } = await fleet.api<RecordingView>("GET", `/v1/recordings/${recording.id}`);
            expect(body.status).not.toBe("failed");
            if (body.status === "active") {
              await stopAll([body]);
              done.add(body.id);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        for (const recording of recordings) await fleet.waitFor(recording.id, "notified");
      } finally {
        await fleet.livekitAdmin("/faults", { capacity: null });
      }
    },
    scaled(120_000),
  );

  it(
    "emails the owner when an egress fails mid-way",
    async () => {
      await fleet.livekitAdmin("/faults", { failNext: 1, failAfterMs: 300 });
      const [recording] = await startRecordings([{ room: "e2e-fails", kind: "video", profile: "balanced" }]);
      const failed = await fleet.waitFor(recording?.id ?? "", "failed");
      expect(failed.error?.code).toBe("egress_failed");
      const deadline = Date.now() + scaled(30_000);
      let mail: { id: string; subject: string } | undefined;
      while (!mail && Date.now() < deadline) {
        mail = (await fleet.mails()).find(
          (entry) => entry.messageId === `<failed.${failed.id}@sandbox.localhost>`,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(mail?.subject).toMatch(/e2e-fails/);
    },
    scaled(60_000),
  );

  it(
    "cancels a recording stopped before it started, and sends no email",
    async () => {
      // The fleet is full: the recording waits in `starting` without an egress.
      await fleet.livekitAdmin("/faults", { capacity: 0 });
      try {
        const [recording] = await startRecordings([
          { room: "e2e-cancel", kind: "audio", profile: "low-cpu" },
        ]);
        await fleet.waitFor(recording?.id ?? "", "starting");
        await stopAll([recording as RecordingView]);
        const cancelled = await fleet.waitFor(recording?.id ?? "", "cancelled", 30_000);
        expect(cancelled.egressId).toBeNull();
      } finally {
        await fleet.livekitAdmin("/faults", { capacity: null });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await fleet.mails()).filter((entry) => entry.subject.includes("e2e-cancel"))).toEqual([]);
    },
    scaled(60_000),
  );

  it(
    "misses no notification when the S3 emulator restarts mid-run",
    async () => {
      const recordings = await startRecordings(
        [0, 1, 2, 3].map((i) => ({ room: `e2e-s3-${i}`, kind: "video" as const, profile: "minimum-cpu" })),
      );
      for (const recording of recordings) await fleet.waitFor(recording.id, "active");
      await fleet.supervisor.restart("s3");
      await stopAll(recordings);
      for (const recording of recordings) await fleet.waitFor(recording.id, "notified", 90_000);
      const mails = await fleet.mails();
      for (const recording of recordings) {
        expect(
          mails.filter((entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`),
        ).toHaveLength(1);
      }
    },
    scaled(120_000),
  );

  it(
    "deletes a recording: its file leaves storage, the emailed link stops working, a tombstone stays",
    async () => {
      const [started] = await startRecordings([{ room: "e2e-delete", kind: "video", profile: "low-cpu" }]);
      const id = started?.id ?? "";
      await fleet.waitFor(id, "active");
      await stopAll([started as RecordingView]);
      const notified = await fleet.waitFor(id, "notified");
      const mail = (await fleet.mails()).find(
        (entry) => entry.messageId === `<saved.${id}@sandbox.localhost>`,
      );
      const link = linkIn(await fleet.mailText(mail?.id ?? ""));
      expect((await fetch(link)).status).toBe(200);

      const accepted = await fleet.api<RecordingView & { deleteRequested: unknown }>(
        "DELETE",
        `/v1/recordings/${id}`,
      );
      expect(accepted.status).toBe(202);
      expect(accepted.body.deleteRequested).toMatchObject({ tenant: "default" });
      const deleted = await fleet.waitFor(id, "deleted", 30_000);
      // The file and the manifest egress wrote beside it. A re-scan that listed the file just
      // before the deletion may report it afterwards: it is removed again, noted after this.
      const [deletion, ...after] = deleted.timeline.slice(
        deleted.timeline.findIndex((entry) => entry.status === "deleted"),
      );
      expect(deletion?.reason).toBe(
        "deleted through the API by tenant default: 2 objects removed from storage",
      );
      for (const entry of after) expect(entry.reason).toMatch(/ after the recording was deleted: removed$/);
      const manifest = `${notified.file?.key.slice(0, notified.file.key.lastIndexOf("/") + 1)}${notified.egressId}.json`;
      await expect(fleet.minio.statObject(fleet.info.s3.bucket, manifest)).rejects.toMatchObject({
        code: "NotFound",
      });
      expect((await fetch(link)).status).toBe(404);
      await expect(
        fleet.minio.statObject(fleet.info.s3.bucket, notified.file?.key ?? ""),
      ).rejects.toMatchObject({
        code: "NotFound",
      });
      // Idempotent: the tombstone, as it is.
      const again = await fleet.api<RecordingView>("DELETE", `/v1/recordings/${id}`);
      expect(again.status).toBe(200);
      expect(again.body.status).toBe("deleted");
    },
    scaled(90_000),
  );

  it(
    "expires a recording's file after its tenant's expireDays, and the API shows it expired",
    async () => {
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${fleet.info.apiUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${BRIEF_KEY}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return {
          status: response.status,
          body: (await response.json()) as RecordingView & { expiresAt: string | null },
        };
      };
      const until = async (id: string, status: string, timeoutMs: number) => {
        const deadline = Date.now() + scaled(timeoutMs);
        for (;;) {
          const { body } = await call("GET", `/v1/recordings/${id}`);
          if (body.status === status) return body;
          if (Date.now() > deadline) throw new Error(`recording ${id} is ${body.status}, expected ${status}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      };
      await fleet.openRoom("e2e-expires");
      const created = await call("POST", "/v1/recordings", { room: "e2e-expires", kind: "audio" });
      expect(created.status).toBe(202);
      const id = created.body.id;
      await until(id, "active", 60_000);
      expect((await call("POST", `/v1/recordings/${id}/stop`)).status).toBe(202);
      const notified = await until(id, "notified", 60_000);
      const expiresAt = Date.parse(notified.expiresAt ?? "");
      const savedAt = Date.parse(notified.timeline.find((entry) => entry.status === "saved")?.at ?? "");
      expect(expiresAt - savedAt).toBe(Math.round(0.0002 * 24 * 60 * 60 * 1000));
      // Swept by the reconciler (every 30 s) once the 17 s are over.
      const expired = await until(id, "expired", 120_000);
      expect(expired.timeline.at(-1)?.reason).toMatch(/^expired: kept 0\.0002 days after it was saved/);
      await expect(
        fleet.minio.statObject(fleet.info.s3.bucket, notified.file?.key ?? ""),
      ).rejects.toMatchObject({
        code: "NotFound",
      });
      // Another tenant never sees it.
      expect((await fleet.api("GET", `/v1/recordings/${id}`)).status).toBe(404);

      // Its tenant was told each step at its callback endpoint, signed, once each.
      const events = ["recording.started", "recording.stopped", "recording.ready", "recording.expired"];
      await receiver.waitFor(
        (calls) => events.every((type) => calls.some((c) => c.answered === 204 && c.payload?.type === type)),
        "the recording's four events",
        30_000,
      );
      const mine = receiver.accepted().filter((c) => c.payload?.data.id === id);
      // Each retried after a second (±20 %): two close events may arrive in either order.
      expect(mine.map((c) => c.payload?.type).sort()).toEqual([...events].sort());
      const ready = mine.find((c) => c.payload?.type === "recording.ready")?.payload?.data;
      expect(ready?.expiresAt).toBe(notified.expiresAt);
      expect(ready?.artifacts).toEqual([
        { type: "file", size: notified.file?.size, contentType: "audio/ogg", count: null, download: null },
      ]);
      const deliveries = await fetch(`${fleet.info.apiUrl}/v1/recordings/${id}/deliveries`, {
        headers: { authorization: `Bearer ${BRIEF_KEY}` },
      });
      const { items } = (await deliveries.json()) as {
        items: { event: string; state: string; attemptCount: number }[];
      };
      expect(items.map((item) => [item.event, item.state, item.attemptCount])).toEqual(
        events.map((event) => [event, "delivered", 2]),
      );
    },
    scaled(180_000),
  );
});
