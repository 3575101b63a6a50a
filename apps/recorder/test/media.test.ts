// Every built-in encoding profile, end to end: the recorder's Start request built from it, the
// LiveKit emulator rendering real media with ffmpeg at what egress was asked for, and the stored
// file read back with ffprobe — size, frame rate, codecs and bitrates as the profile promises.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { effectiveSettings, loadProfileCatalog } from "@recfleet/config";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  BUCKET,
  closeTestS3,
  createRecording,
  type EgressProcess,
  eventually,
  type Harness,
  startEgressProcess,
  startHarness,
  untilActive,
} from "./support.ts";

const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });
const dir = mkdtempSync(join(tmpdir(), "recfleet-media-"));
// How long each recording records: long enough for bitrates to be measured, not more.
const RECORD_MS = 2_500;
const TOLERANCE = 0.25;

interface Probed {
  format: { format_name: string; duration: string; bit_rate: string };
  streams: {
    codec_type: string;
    codec_name: string;
    profile?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    sample_rate?: string;
    bit_rate?: string;
  }[];
}

function ffprobe(bytes: Buffer, name: string): Probed {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const probe = spawnSync("ffprobe", ["-v", "error", "-show_format", "-show_streams", "-of", "json", path], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (probe.error || probe.status !== 0)
    throw new Error(`ffprobe failed: ${probe.error?.message ?? probe.stderr}`);
  return JSON.parse(probe.stdout) as Probed;
}

/** What a profile promises, whichever way it says it (a preset's are egress' own). */
function settingsOf(name: string) {
  const profile = profiles.get(name);
  if (!profile) throw new Error(`no profile ${name}`);
  return effectiveSettings(profile);
}

const within = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(TOLERANCE);

let redis: TestRedis;
let egress: EgressProcess;
let harness: Harness;

beforeAll(async () => {
  const ffmpeg = spawnSync("ffmpeg", ["-version"], { encoding: "utf8" });
  if (ffmpeg.status !== 0)
    throw new Error("ffmpeg is not installed: `apt-get install ffmpeg` (.ci/run installs it)");
  redis = await startRedis();
  egress = await startEgressProcess(["--media=ffmpeg"]);
  harness = await startHarness({
    redisUrl: redis.url,
    egressUrl: egress.url,
    recorder: { fileCheckAfterMs: 0 },
  });
});
afterAll(async () => {
  await harness?.close();
  await closeTestS3();
  await egress?.process.stop();
  await redis?.stop();
});

async function recorded(profile: string, kind: "video" | "audio") {
  const recording = await createRecording(harness.store, { profile, kind }, egress);
  await harness.producer.enqueue("start", { recordingId: recording.id });
  await untilActive(harness, recording.id);
  await new Promise((resolve) => setTimeout(resolve, RECORD_MS));
  await harness.producer.enqueue("stop", { recordingId: recording.id });
  const saved = await eventually(async () => {
    await handleReconcile(harness.context, harness.client, harness.prefix);
    const current = await harness.store.get(recording.id);
    return current?.status === "saved" ? current : undefined;
  }, 60_000);
  const key = saved.file?.key ?? "";
  const bytes = Buffer.concat(await (await harness.context.minio.getObject(BUCKET, key)).toArray());
  return { saved, probed: ffprobe(bytes, key.split("/").pop() ?? "file") };
}

describe.concurrent("every built-in profile, rendered as egress was asked and read back with ffprobe", () => {
  it.each(profiles.list().map((profile) => profile.name))(
    "%s, video: MP4 of H.264 Main and AAC at the profile's settings",
    async (name) => {
      const profile = settingsOf(name);
      const { probed } = await recorded(name, "video");
      expect(probed.format.format_name).toContain("mp4");
      const video = probed.streams.find((stream) => stream.codec_type === "video");
      const audio = probed.streams.find((stream) => stream.codec_type === "audio");
      expect(video).toMatchObject({
        codec_name: "h264",
        profile: "Main",
        width: profile.width,
        height: profile.height,
      });
      expect(video?.avg_frame_rate).toBe(`${profile.framerate}/1`);
      within(Number(video?.bit_rate), profile.videoBitrate * 1000);
      expect(audio).toMatchObject({ codec_name: "aac", sample_rate: String(profile.audioFrequency) });
      within(Number(audio?.bit_rate), profile.audioBitrate * 1000);
      expect(Number(probed.format.duration)).toBeGreaterThan(RECORD_MS / 1000 - 0.5);
    },
  );

  it.each(profiles.list().map((profile) => profile.name))(
    "%s, audio: OGG of Opus at the profile's audio bitrate",
    async (name) => {
      const profile = settingsOf(name);
      const { probed } = await recorded(name, "audio");
      expect(probed.format.format_name).toBe("ogg");
      expect(probed.streams.map((stream) => [stream.codec_type, stream.codec_name])).toEqual([
        ["audio", "opus"],
      ]);
      within(Number(probed.format.bit_rate), profile.audioBitrate * 1000);
    },
  );
});
