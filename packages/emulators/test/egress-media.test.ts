// The emulator's real media (ffmpeg): what a file, an HLS segment and a track's WebM hold when
// read back with ffprobe — the codecs and size egress was asked for, as long as it recorded.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DirectFileOutput,
  EgressClient,
  EgressStatus,
  EncodingOptions,
  SegmentedFileOutput,
} from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { ffmpegArgs } from "../src/livekit/media.ts";
import {
  type S3Recorder,
  s3UploadTo,
  startS3Recorder,
  untilEgressStatus,
  waitFor,
} from "./egress-support.ts";

const KEY = "media-access";
const SECRET = "media-storage-secret";
const dir = mkdtempSync(join(tmpdir(), "emulator-media-"));
let s3: S3Recorder;
let emulator: LiveKitEmulator;
let client: EgressClient;

interface Stream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  start_time?: string;
}
function ffprobe(
  bytes: Buffer,
  name: string,
): { format: { format_name: string; duration: string }; streams: Stream[] } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const probe = spawnSync("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", path], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (probe.status !== 0) throw new Error(`ffprobe failed: ${probe.stderr}`);
  return JSON.parse(probe.stdout);
}

const upload = () => ({ case: "s3" as const, value: s3UploadTo(s3, KEY, SECRET) });
const stored = (key: string) => waitFor(() => s3.objects.find((object) => object.key === key));

beforeAll(async () => {
  if (spawnSync("ffmpeg", ["-version"]).status !== 0) {
    throw new Error("ffmpeg is not installed: `apt-get install ffmpeg` (.ci/run installs it)");
  }
  s3 = await startS3Recorder({ [KEY]: SECRET });
  emulator = await startLiveKitEmulator({ activationDelayMs: 20, media: "ffmpeg", logLevel: "error" });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
});
afterAll(async () => {
  await emulator?.close();
  await s3?.close();
});

describe("ffmpeg media", () => {
  it("writes HLS segments of H.264 and AAC in MPEG-TS, each going on where the one before ended", async () => {
    emulator.join("media-hls", { identity: "ann", publish: ["camera", "microphone"] });
    const info = await client.startParticipantEgress(
      "media-hls",
      "ann",
      {
        segments: new SegmentedFileOutput({
          filenamePrefix: "hls/seg",
          playlistName: "hls/playlist.m3u8",
          segmentDuration: 1,
          output: upload(),
        }),
      },
      { encodingOptions: new EncodingOptions({ width: 640, height: 360, framerate: 15, videoBitrate: 500 }) },
    );
    await untilEgressStatus(client, info.egressId, EgressStatus.EGRESS_ACTIVE);
    await stored("hls/seg_00001.ts");
    await client.stopEgress(info.egressId);
    await untilEgressStatus(client, info.egressId, EgressStatus.EGRESS_COMPLETE);
    const [first, second] = ["hls/seg_00000.ts", "hls/seg_00001.ts"].map((key) => {
      const object = s3.objects.find((entry) => entry.key === key);
      if (!object) throw new Error(`no ${key}`);
      return ffprobe(object.body, key.replace("/", "-"));
    });
    expect(first?.format.format_name).toBe("mpegts");
    expect(first?.streams.map((stream) => stream.codec_name).sort()).toEqual(["aac", "h264"]);
    expect(first?.streams.find((stream) => stream.codec_type === "video")).toMatchObject({
      width: 640,
      height: 360,
    });
    // The second segment's timestamps start about where the first's ended.
    const start = (probe: typeof first) =>
      Number(probe?.streams.find((stream) => stream.codec_type === "video")?.start_time);
    expect(start(second) - start(first)).toBeGreaterThan(0.5);
  });

  it("writes a VP8 track as WebM, video only, as track egress copies it", async () => {
    emulator.join("media-track", { identity: "bea" });
    const track = emulator.publish("media-track", "bea", { source: "camera", codec: "vp8" });
    const info = await client.startTrackEgress(
      "media-track",
      new DirectFileOutput({ filepath: "t/bea.webm", output: upload() }),
      String(track.sid),
    );
    await untilEgressStatus(client, info.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(info.egressId);
    await untilEgressStatus(client, info.egressId, EgressStatus.EGRESS_COMPLETE);
    const probed = ffprobe((await stored("t/bea.webm")).body, "bea.webm");
    expect(probed.format.format_name).toContain("webm");
    expect(probed.streams.map((stream) => [stream.codec_type, stream.codec_name])).toEqual([
      ["video", "vp8"],
    ]);
  });

  it("never reads a room name as filter syntax: it goes to ffmpeg in a file, unexpanded", () => {
    const args = ffmpegArgs(
      {
        contentType: "video/mp4",
        plan: {
          audioEnabled: true,
          videoEnabled: true,
          width: 640,
          height: 360,
          depth: 24,
          framerate: 15,
          audioBitrateKbps: 64,
          audioFrequency: 48000,
          videoBitrateKbps: 500,
          keyFrameInterval: 4,
          audioCodec: "",
          videoCodec: "",
        },
        trackCodec: "",
        durationMs: 1000,
        offsetMs: 0,
        label: "x',drawtext=text='%{e:1}",
      },
      "/tmp/label.txt",
      "/tmp/out",
    );
    expect(args.join(" ")).not.toContain("%{e:1}");
    expect(args[args.indexOf("-vf") + 1]).toMatch(/^drawtext=textfile=\/tmp\/label\.txt:expansion=none:/);
  });
});
