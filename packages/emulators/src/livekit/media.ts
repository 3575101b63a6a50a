import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EncodingPlan, MIME } from "./encoding.ts";

/** What one rendered piece of media is: a file or an HLS segment, as egress was asked to encode it. */
export interface RenderSpec {
  /** The object's Content-Type: video/mp4, audio/ogg, video/webm, or video/mp2t for a segment. */
  contentType: string;
  plan: EncodingPlan;
  /** The codec a track egress copies (its track's MIME type); empty for an encoded output. */
  trackCodec: string;
  durationMs: number;
  /** Where in the recording it starts, for a segment (its clock and timestamps go on from there). */
  offsetMs: number;
  /** Shown on the picture: the room (or page) it records. */
  label: string;
}

/** Renders real media for the emulator's outputs; throws when it cannot. */
export interface MediaRenderer {
  render(spec: RenderSpec): Promise<Buffer>;
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** The ffmpeg arguments of one render: a synthetic meeting (test pattern, the label, a running clock, a tone). */
export function ffmpegArgs(spec: RenderSpec, labelFile: string, output: string): string[] {
  const { plan } = spec;
  const duration = seconds(Math.max(spec.durationMs, 200));
  const track = spec.trackCodec.toLowerCase();
  const video =
    track === "" ? plan.videoEnabled && spec.contentType !== MIME.ogg : track.startsWith("video/");
  const audio = track === "" ? plan.audioEnabled : track.startsWith("audio/");
  const args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"];
  if (video) {
    args.push(
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${plan.width}x${plan.height}:rate=${plan.framerate}:duration=${duration}`,
    );
  }
  if (audio) {
    args.push(
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=440:sample_rate=${plan.audioFrequency}:duration=${duration}`,
    );
  }
  if (video) {
    const size = Math.max(12, Math.round(plan.height / 20));
    const box = `fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6`;
    // The label comes from a file, unexpanded: a room name is never read as filter syntax.
    const label = `drawtext=textfile=${labelFile}:expansion=none:x=${size}:y=${size}:${box}`;
    const clock = `drawtext=text='%{pts\\:hms\\:${seconds(spec.offsetMs)}}':x=${size}:y=${size * 3}:${box}`;
    args.push("-vf", `${label},${clock}`);
    const kbps = plan.videoBitrateKbps;
    if (track === "video/vp8" || track === "video/vp9") {
      args.push(
        "-c:v",
        track === "video/vp8" ? "libvpx" : "libvpx-vp9",
        "-b:v",
        `${kbps}k`,
        "-deadline",
        "realtime",
      );
    } else {
      // Egress' x264 settings: veryfast, main profile, constant bitrate, a key frame every interval.
      const gop = Math.max(1, Math.round(plan.framerate * (plan.keyFrameInterval || 4)));
      args.push(
        ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p"],
        ...["-b:v", `${kbps}k`, "-minrate", `${kbps}k`, "-maxrate", `${kbps}k`, "-bufsize", `${kbps}k`],
        ...["-x264-params", "nal-hrd=cbr", "-g", String(gop)],
      );
    }
  }
  if (audio) {
    const opus =
      spec.contentType === MIME.ogg || spec.contentType === MIME.webm || plan.audioCodec === MIME.opus;
    // Opus codes at 48 kHz whatever it is fed (RFC 6716): 44.1 kHz, egress' default, is resampled.
    const rate = opus ? 48_000 : plan.audioFrequency;
    args.push("-c:a", opus ? "libopus" : "aac", "-b:a", `${plan.audioBitrateKbps}k`, "-ar", String(rate));
    if (opus) args.push("-vbr", "off");
  }
  if (spec.contentType === MIME.mp4) args.push("-movflags", "+faststart", "-f", "mp4");
  else if (spec.contentType === MIME.ogg) args.push("-f", "ogg");
  else if (spec.contentType === MIME.webm) args.push("-f", "webm");
  else args.push("-output_ts_offset", seconds(spec.offsetMs), "-f", "mpegts");
  args.push(output);
  return args;
}

/**
 * Real media rendered by ffmpeg (Debian's `ffmpeg`): MP4 (H.264 + AAC), OGG (Opus), WebM (VP8,
 * VP9) and MPEG-TS segments, at the size, frame rate and bitrates of the egress' plan, as long as
 * it recorded (up to `maxDurationMs`). Each render has `timeoutMs`; ffmpeg is killed past it.
 */
export function ffmpegRenderer(options: {
  binary?: string;
  timeoutMs: number;
  maxDurationMs: number;
}): MediaRenderer {
  const binary = options.binary ?? "ffmpeg";
  return {
    async render(spec) {
      const dir = await mkdtemp(join(tmpdir(), "livekit-emulator-media-"));
      try {
        const labelFile = join(dir, "label.txt");
        await writeFile(labelFile, spec.label.replace(/[\p{Cc}]/gu, " ").slice(0, 120) || " ");
        const output = join(dir, "out");
        const durationMs = Math.min(spec.durationMs, options.maxDurationMs);
        await run(binary, ffmpegArgs({ ...spec, durationMs }, labelFile, output), options.timeoutMs);
        return await readFile(output);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function run(binary: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `ffmpeg ${signal ? `killed (${signal}) after ${timeoutMs} ms` : `exited ${code}`}: ${stderr.trim().split("\n").at(-1) ?? ""}`,
          ),
        );
    });
  });
}
