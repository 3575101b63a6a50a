// A track recording and a web page recording on the recorder's side, against the emulator: the
// track's codec, read from the room before the Start, decides the file's container (and so the
// key recfleet waits for); what the track cannot become is refused before any egress; a page is
// recorded in no room, its retried start still finds the egress it started.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findRunningEgress } from "../src/egress-calls.ts";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  closeTestS3,
  createRecording,
  type EgressProcess,
  eventually,
  type Harness,
  startEgressProcess,
  startHarness,
  statusOf,
  untilActive,
} from "./support.ts";

let redis: TestRedis;
let egress: EgressProcess;
let harness: Harness;
let pages: Server;
let pagesUrl: string;

beforeAll(async () => {
  redis = await startRedis();
  egress = await startEgressProcess(["--source-wait-ms=60000"]);
  pages = createServer((req, res) => {
    if (req.url === "/board") res.end("<h1>live board</h1>");
    else {
      res.statusCode = 404;
      res.statusMessage = "Not Found";
      res.end();
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await closeTestS3();
  await egress?.process.stop();
  await redis?.stop();
  await new Promise((resolve) => pages?.close(resolve));
});
afterEach(async () => {
  await harness?.close();
});

/** Someone joins `room` publishing one track in `codec`; answers its sid. */
async function publish(room: string, identity: string, source: "camera" | "microphone", codec: string) {
  await egress.admin(`/rooms/${encodeURIComponent(room)}/participants`, { identity });
  const track = await egress.admin<{ sid: string }>(
    `/rooms/${encodeURIComponent(room)}/participants/${identity}/tracks`,
    { source, codec },
  );
  return track.sid;
}

const trackRecording = (
  room: string,
  trackId: string,
  extra: { kind?: "audio" | "video"; format?: "mp4" | "webm" | "ogg" | null } = {},
) =>
  createRecording(harness.store, {
    room,
    kind: extra.kind ?? "video",
    profile: null,
    source: { type: "track", trackId },
    outputs: [{ type: "file", format: extra.format ?? (extra.kind === "audio" ? "ogg" : null) }],
  });

// No storage listener runs here: the reconciler looks for files as soon as egress ended.
const LOOK_AT_ONCE = { fileCheckAfterMs: 0 };

const reconcile = () => handleReconcile(harness.context, harness.client, harness.prefix);

describe("a track recording", () => {
  it.each([
    ["camera", "h264", "mp4", "video/mp4"],
    ["camera", "vp8", "webm", "video/webm"],
    ["microphone", "opus", "ogg", "audio/ogg"],
  ] as const)(
    "plans a %s track in %s as %s, starts track egress, and saves the file that lands",
    async (source, codec, extension, contentType) => {
      harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, recorder: LOOK_AT_ONCE });
      const room = `track-${codec}-${Date.now()}`;
      const trackId = await publish(room, "alice", source, codec);
      const recording = await trackRecording(room, trackId, {
        kind: source === "microphone" ? "audio" : "video",
      });
      await harness.producer.enqueue("start", { recordingId: recording.id });
      const active = await untilActive(harness, recording.id);
      expect(active.output?.file).toMatchObject({
        key: `recordings/${recording.id}.${extension}`,
        contentType,
      });
      const starts = (
        await egress.admin<{ requests: { method: string | null; body: Record<string, unknown> }[] }>(
          "/requests",
        )
      ).requests.filter((request) => request.method === "StartTrackEgress");
      expect(starts.at(-1)?.body).toMatchObject({
        roomName: room,
        trackId,
        file: { filepath: `recordings/${recording.id}.${extension}` },
      });
      await harness.producer.enqueue("stop", { recordingId: recording.id });
      const saved = await eventually(async () => {
        await reconcile();
        const current = await harness.store.get(recording.id);
        return current?.status === "saved" ? current : undefined;
      });
      expect(saved.file).toMatchObject({ key: `recordings/${recording.id}.${extension}`, contentType });
      expect(
        await harness.context.reader.stat("recordings", `recordings/${recording.id}.${extension}`),
      ).toMatchObject({ contentType });
    },
  );

  it("waits, noted on its timeline, for a track not published (yet), and starts no egress meanwhile", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, recorder: LOOK_AT_ONCE });
    const room = `track-late-${Date.now()}`;
    await egress.admin(`/rooms/${room}/participants`, { identity: "bob" });
    // The track's sid is LiveKit's to give: a recording of a track to come names one it will not
    // be given, and is only told apart from a never-published one by the wait.
    const recording = await trackRecording(room, "TR_notyet");
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const noted = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.some((entry) => entry.reason.startsWith("waiting for track TR_notyet"))
        ? current
        : undefined;
    });
    expect(noted.status).toBe("queued");
    expect(noted.egressId).toBeNull();
  });

  it("fails before any egress a track of the other kind, or one whose codec gives another container", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, recorder: LOOK_AT_ONCE });
    const room = `track-refused-${Date.now()}`;
    const video = await publish(room, "carol", "camera", "vp8");
    const asAudio = await trackRecording(room, video, { kind: "audio" });
    const other = await publish(room, "dan", "camera", "vp8");
    const asMp4 = await trackRecording(room, other, { format: "mp4" });
    await harness.producer.enqueue("start", { recordingId: asAudio.id });
    await harness.producer.enqueue("start", { recordingId: asMp4.id });
    const kind = await statusOf(harness.store, asAudio.id, "failed");
    expect(kind.error).toEqual({
      code: "start_failed",
      message: `track ${video} is a video track: the recording asked for audio`,
    });
    const format = await statusOf(harness.store, asMp4.id, "failed");
    expect(format.error?.message).toBe(
      `track ${other} is video/VP8: egress writes it as webm, not the mp4 asked for`,
    );
    const starts = (
      await egress.admin<{ requests: { method: string | null; body: Record<string, unknown> }[] }>(
        "/requests",
      )
    ).requests;
    expect(
      starts.filter((request) => request.method === "StartTrackEgress" && request.body.roomName === room),
    ).toEqual([]);
  });
});

describe("a web page recording", () => {
  it("records the page in no room, and a retried start finds the egress it started", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, recorder: LOOK_AT_ONCE });
    const recording = await createRecording(harness.store, {
      room: `ops-${Date.now()}`,
      source: { type: "web", url: `${pagesUrl}/board`, awaitStartSignal: false },
    });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    const adopted = await findRunningEgress(harness.context, active);
    expect(adopted?.egressId).toBe(active.egressId);
    expect(adopted?.roomName).toBe("");
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    await eventually(async () => {
      await reconcile();
      return (await harness.store.get(recording.id))?.status === "saved" ? true : undefined;
    });
  });

  it("fails egress_failed with egress' page load error when the page does not load", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, recorder: LOOK_AT_ONCE });
    const recording = await createRecording(harness.store, {
      room: `ops-missing-${Date.now()}`,
      source: { type: "web", url: `${pagesUrl}/gone`, awaitStartSignal: false },
    });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const failed = await eventually(async () => {
      await reconcile();
      const current = await harness.store.get(recording.id);
      return current?.status === "failed" ? current : undefined;
    });
    expect(failed.error).toMatchObject({
      code: "egress_failed",
      message: expect.stringContaining("page load error: Not Found"),
    });
  });
});
