import { createServer, type Server } from "node:http";
import {
  DirectFileOutput,
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
} from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listen } from "../src/common/http.ts";
import type { TrackPublish } from "../src/livekit/admin.ts";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import {
  type S3Recorder,
  s3UploadTo,
  startS3Recorder,
  untilEgressStatus,
  waitFor,
} from "./egress-support.ts";

// Track egress (egress' SDK source in passthrough: the track's packets in its codec's container)
// and web egress (Chrome on a page: its load, its start signal), as livekit/egress does them
// (pkg/config/pipeline.go, pkg/pipeline/source/track_worker.go, pkg/pipeline/source/web.go).

const STORAGE_KEY = "track-web-access";
const STORAGE_SECRET = "track-web-storage-secret";
const WAIT_MS = 400;

let s3: S3Recorder;
let emulator: LiveKitEmulator;
let client: EgressClient;
let pages: Server;
let pagesUrl: string;

const upload = () => ({ case: "s3" as const, value: s3UploadTo(s3, STORAGE_KEY, STORAGE_SECRET) });
const direct = (filepath: string) => new DirectFileOutput({ filepath, output: upload() });
const file = (filepath: string) =>
  new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath, output: upload() });
const until = (egressId: string, status: EgressStatus) => untilEgressStatus(client, egressId, status);
const stored = (key: string) => waitFor(() => s3.objects.find((object) => object.key === key));

/** A participant publishing one track of this codec; answers the track's sid. */
function publishTrack(
  room: string,
  identity: string,
  source: "camera" | "microphone",
  codec: TrackPublish["codec"],
): string {
  emulator.join(room, { identity });
  const track = emulator.publish(room, identity, { source, codec });
  return String(track.sid);
}

beforeAll(async () => {
  s3 = await startS3Recorder({ [STORAGE_KEY]: STORAGE_SECRET });
  emulator = await startLiveKitEmulator({
    activationDelayMs: 20,
    sourceWaitMs: WAIT_MS,
    pageLoadTimeoutMs: 300,
    logLevel: "error",
  });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
  pages = createServer((req, res) => {
    if (req.url === "/signal") {
      res.end("<script>setTimeout(() => console.log('START_RECORDING'), 100)</script>");
    } else if (req.url === "/plain") {
      res.end("<h1>a dashboard</h1>");
    } else if (req.url === "/slow") {
      setTimeout(() => res.end("late"), 2_000).unref();
    } else {
      res.statusCode = 404;
      res.statusMessage = "Not Found";
      res.end();
    }
  });
  pagesUrl = `http://127.0.0.1:${await listen(pages, 0, "127.0.0.1")}`;
});
afterAll(async () => {
  await emulator?.close();
  await s3?.close();
  if (pages) await closeServer(pages);
});

describe("track egress", () => {
  it.each([
    ["microphone", "opus", ".ogg", "audio/ogg"],
    ["camera", "h264", ".mp4", "video/mp4"],
    ["camera", "vp8", ".webm", "video/webm"],
    ["camera", "vp9", ".webm", "video/webm"],
  ] as const)(
    "writes a %s track in %s as its codec's container (%s), whatever extension was asked",
    async (source, codec, extension, contentType) => {
      const room = `track-${codec}`;
      const trackId = publishTrack(room, `pub-${codec}`, source, codec);
      const info = await client.startTrackEgress(room, direct(`t/${codec}.mp3`), trackId);
      expect(info.request.case).toBe("track");
      const output = info.request.case === "track" ? info.request.value.output : undefined;
      expect(
        output?.case === "file" && output.value.output.case === "s3" ? output.value.output.value.secret : "",
      ).toBe("{secret}");
      const active = await until(info.egressId, EgressStatus.EGRESS_ACTIVE);
      expect(active.fileResults[0]?.filename).toBe(`t/${codec}${extension}`);
      await client.stopEgress(info.egressId);
      const ended = await until(info.egressId, EgressStatus.EGRESS_COMPLETE);
      expect(ended.fileResults[0]?.filename).toBe(`t/${codec}${extension}`);
      expect((await stored(`t/${codec}${extension}`)).contentType).toBe(contentType);
    },
  );

  it("waits for its track and fails 'track … not found' after egress' wait; a room that does not exist is a 404", async () => {
    emulator.join("track-wait", { identity: "host" });
    const info = await client.startTrackEgress("track-wait", direct("t/never.ogg"), "TR_never");
    const failed = await until(info.egressId, EgressStatus.EGRESS_FAILED);
    expect(failed.error).toBe("track TR_never not found");
    expect(failed.errorCode).toBe(404);
    await expect(client.startTrackEgress("no-such-room", direct("t/x.ogg"), "TR_x")).rejects.toMatchObject({
      status: 404,
    });
    await expect(client.startTrackEgress("track-wait", direct("t/x.ogg"), "")).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: track_id",
    });
  });

  it("ends normally, with its file, when its track is unpublished or its participant leaves", async () => {
    const audio = publishTrack("track-end", "ivy", "microphone", "opus");
    const byUnpublish = await client.startTrackEgress("track-end", direct("t/ivy.ogg"), audio);
    await until(byUnpublish.egressId, EgressStatus.EGRESS_ACTIVE);
    emulator.unpublish("track-end", "ivy", audio);
    const ended = await until(byUnpublish.egressId, EgressStatus.EGRESS_COMPLETE);
    expect(ended.details).toBe("End reason: Source closed");
    await stored("t/ivy.ogg");

    const video = publishTrack("track-end", "jon", "camera", "vp8");
    const byLeave = await client.startTrackEgress("track-end", direct("t/jon.webm"), video);
    await until(byLeave.egressId, EgressStatus.EGRESS_ACTIVE);
    emulator.leave("track-end", "jon");
    expect((await until(byLeave.egressId, EgressStatus.EGRESS_COMPLETE)).details).toBe(
      "End reason: Source closed",
    );
  });

  it("does not stream a track to a WebSocket: unimplemented, not a pretend success", async () => {
    const trackId = publishTrack("track-ws", "kim", "microphone", "opus");
    await expect(client.startTrackEgress("track-ws", "wss://example.test/in", trackId)).rejects.toMatchObject(
      {
        status: 501,
      },
    );
  });
});

describe("web egress", () => {
  it("records a page once it loaded, in no room, and uploads its file", async () => {
    const info = await client.startWebEgress(`${pagesUrl}/plain`, { file: file("w/plain.mp4") });
    expect(info.roomName).toBe("");
    expect(info.request.case).toBe("web");
    await until(info.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(info.egressId);
    await until(info.egressId, EgressStatus.EGRESS_COMPLETE);
    expect((await stored("w/plain.mp4")).contentType).toBe("video/mp4");
  });

  it("with awaitStartSignal, records only a page that sends START_RECORDING; a stop before it aborts", async () => {
    const signalled = await client.startWebEgress(
      `${pagesUrl}/signal`,
      { file: file("w/signal.mp4") },
      { awaitStartSignal: true },
    );
    await until(signalled.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(signalled.egressId);

    const silent = await client.startWebEgress(
      `${pagesUrl}/plain`,
      { file: file("w/silent.mp4") },
      { awaitStartSignal: true },
    );
    await emulator.idle();
    expect((await client.listEgress({ egressId: silent.egressId }))[0]?.status).toBe(
      EgressStatus.EGRESS_STARTING,
    );
    await client.stopEgress(silent.egressId);
    const aborted = await until(silent.egressId, EgressStatus.EGRESS_ABORTED);
    expect(aborted.error).toBe("Start signal not received");
  });

  it("fails with egress' page load errors: an error status, a refused connection, a page that never loads", async () => {
    const missing = await client.startWebEgress(`${pagesUrl}/missing`, { file: file("w/missing.mp4") });
    expect((await until(missing.egressId, EgressStatus.EGRESS_FAILED)).error).toBe(
      "page load error: Not Found",
    );

    const closed = createServer();
    const port = await listen(closed, 0, "127.0.0.1");
    await closeServer(closed);
    const refused = await client.startWebEgress(`http://127.0.0.1:${port}/`, { file: file("w/refused.mp4") });
    expect((await until(refused.egressId, EgressStatus.EGRESS_FAILED)).error).toBe(
      "page load error: net::ERR_CONNECTION_REFUSED",
    );

    const slow = await client.startWebEgress(`${pagesUrl}/slow`, { file: file("w/slow.mp4") });
    expect((await until(slow.egressId, EgressStatus.EGRESS_FAILED)).error).toBe("page load error: timed out");
  });

  it("refuses what egress refuses: a URL that is not http(s), audio_only with video_only", async () => {
    await expect(
      client.startWebEgress("file:///etc/passwd", { file: file("w/x.mp4") }),
    ).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: web url",
    });
    await expect(
      client.startWebEgress(
        `${pagesUrl}/plain`,
        { file: file("w/x.mp4") },
        { audioOnly: true, videoOnly: true },
      ),
    ).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: audio_only and video_only",
    });
  });
});
