import {
  AudioCodec,
  EncodedFileType,
  type EncodingOptions,
  EncodingOptionsPreset,
  VideoCodec,
} from "@livekit/protocol";
import { TwirpError } from "./twirp.ts";

/** What the pipeline would encode: the numbers that decide how big the recorded file gets. */
export interface EncodingPlan {
  audioEnabled: boolean;
  videoEnabled: boolean;
  width: number;
  height: number;
  depth: number;
  framerate: number;
  audioBitrateKbps: number;
  audioFrequency: number;
  videoBitrateKbps: number;
  keyFrameInterval: number;
  /** Codecs as egress names them (MIME types); empty when the request leaves the choice to egress. */
  audioCodec: string;
  videoCodec: string;
}

/** The `options` oneof every composite request has: a preset, advanced options, or nothing. */
export type EncodingChoice =
  | { case: "preset"; value: EncodingOptionsPreset }
  | { case: "advanced"; value: EncodingOptions }
  | { case: undefined; value?: undefined };

/** Egress' error for a bad field: psrpc InvalidArgument, answered by Twirp as invalid_argument. */
export function invalidInput(field: string): TwirpError {
  return new TwirpError("invalid_argument", `request has missing or invalid field: ${field}`);
}

// Defaults egress starts from before applying a preset or advanced options (PipelineConfig.Update).
// livekit/egress pkg/config/pipeline.go: what a request without options records.
const DEFAULTS = {
  width: 1280,
  height: 720,
  depth: 24,
  framerate: 30,
  videoBitrateKbps: 3000,
  audioBitrateKbps: 128,
  audioFrequency: 44100,
  keyFrameInterval: 0,
} as const;

type PresetValues = Partial<Pick<EncodingPlan, "width" | "height" | "framerate" | "videoBitrateKbps">>;

// egress' applyPreset (pkg/config/encoding.go): every preset sets size, frame rate and bitrate.
const PRESETS: Record<number, PresetValues> = {
  [EncodingOptionsPreset.H264_720P_30]: { width: 1280, height: 720, framerate: 30, videoBitrateKbps: 3000 },
  [EncodingOptionsPreset.H264_720P_60]: { width: 1280, height: 720, framerate: 60, videoBitrateKbps: 4500 },
  [EncodingOptionsPreset.H264_1080P_30]: { width: 1920, height: 1080, framerate: 30, videoBitrateKbps: 4500 },
  [EncodingOptionsPreset.H264_1080P_60]: { width: 1920, height: 1080, framerate: 60, videoBitrateKbps: 6000 },
  [EncodingOptionsPreset.PORTRAIT_H264_720P_30]: {
    width: 720,
    height: 1280,
    framerate: 30,
    videoBitrateKbps: 3000,
  },
  [EncodingOptionsPreset.PORTRAIT_H264_720P_60]: {
    width: 720,
    height: 1280,
    framerate: 60,
    videoBitrateKbps: 4500,
  },
  [EncodingOptionsPreset.PORTRAIT_H264_1080P_30]: {
    width: 1080,
    height: 1920,
    framerate: 30,
    videoBitrateKbps: 4500,
  },
  [EncodingOptionsPreset.PORTRAIT_H264_1080P_60]: {
    width: 1080,
    height: 1920,
    framerate: 60,
    videoBitrateKbps: 6000,
  },
};

export const MIME = {
  aac: "audio/aac",
  opus: "audio/opus",
  mp3: "audio/mpeg",
  h264: "video/h264",
  mp4: "video/mp4",
  ogg: "audio/ogg",
  webm: "video/webm",
} as const;

// egress' applyAdvanced: only these codecs change the choice; VP8 is not wired into the
// composite pipeline and leaves the default (H.264) in place.
function audioCodecMime(codec: AudioCodec): string {
  if (codec === AudioCodec.OPUS) return MIME.opus;
  if (codec === AudioCodec.AAC) return MIME.aac;
  if (codec === AudioCodec.AC_MP3) return MIME.mp3;
  return "";
}

function videoCodecMime(codec: VideoCodec): string {
  return codec === VideoCodec.H264_BASELINE ||
    codec === VideoCodec.H264_MAIN ||
    codec === VideoCodec.H264_HIGH
    ? MIME.h264
    : "";
}

function applyAdvanced(plan: EncodingPlan, advanced: EncodingOptions): void {
  plan.audioCodec = audioCodecMime(advanced.audioCodec);
  if (advanced.audioBitrate !== 0) plan.audioBitrateKbps = advanced.audioBitrate;
  if (advanced.audioFrequency !== 0) plan.audioFrequency = advanced.audioFrequency;
  plan.videoCodec = videoCodecMime(advanced.videoCodec);
  if (advanced.width > 0) {
    if (advanced.width < 16 || advanced.width % 2 === 1) throw invalidInput("width");
    plan.width = advanced.width;
  }
  if (advanced.height > 0) {
    if (advanced.height < 16 || advanced.height % 2 === 1) throw invalidInput("height");
    plan.height = advanced.height;
  }
  if (advanced.depth !== 0) {
    if (advanced.depth !== 8 && advanced.depth !== 16 && advanced.depth !== 24) throw invalidInput("depth");
    plan.depth = advanced.depth;
  }
  if (advanced.framerate !== 0) plan.framerate = advanced.framerate;
  if (advanced.videoBitrate !== 0) plan.videoBitrateKbps = advanced.videoBitrate;
  if (advanced.keyFrameInterval !== 0) plan.keyFrameInterval = advanced.keyFrameInterval;
}

/**
 * The encoding part of egress' request validation (audio/video flags, preset or advanced options),
 * in egress' order; throws the invalid_argument egress would answer.
 */
export function planEncoding(
  enabled: { audio: boolean; video: boolean },
  options: EncodingChoice,
): EncodingPlan {
  const plan: EncodingPlan = {
    audioEnabled: enabled.audio,
    videoEnabled: enabled.video,
    ...DEFAULTS,
    audioCodec: "",
    videoCodec: "",
  };
  if (!plan.audioEnabled && !plan.videoEnabled) throw invalidInput("audio_only and video_only");
  if (options.case === "preset") {
    const preset = PRESETS[options.value];
    // PASSTHROUGH and unknown numbers leave the defaults, as egress' switch does.
    if (preset) Object.assign(plan, preset);
  } else if (options.case === "advanced") {
    applyAdvanced(plan, options.value);
  }
  return plan;
}

/** The bitrate that ends up in the file: audio and video unless one of them is disabled. */
export function totalBitrateKbps(plan: EncodingPlan): number {
  return (plan.audioEnabled ? plan.audioBitrateKbps : 0) + (plan.videoEnabled ? plan.videoBitrateKbps : 0);
}

interface Container {
  mime: string;
  extension: string;
  audio: readonly string[];
  video: readonly string[];
}

// egress' CodecCompatibility for the file containers a room composite can write.
const CONTAINERS: Record<"mp4" | "ogg" | "mp3", Container> = {
  mp4: { mime: MIME.mp4, extension: ".mp4", audio: [MIME.aac, MIME.opus], video: [MIME.h264] },
  ogg: { mime: MIME.ogg, extension: ".ogg", audio: [MIME.opus], video: [] },
  mp3: { mime: MIME.mp3, extension: ".mp3", audio: [MIME.mp3], video: [] },
};

export interface FileFormat {
  /** The output type egress reports, which is also the uploaded object's Content-Type. */
  contentType: string;
  extension: string;
}

function codecProblem(container: Container, plan: EncodingPlan): string | null {
  const checks: [boolean, string, readonly string[]][] = [
    [plan.audioEnabled, plan.audioCodec, container.audio],
    [plan.videoEnabled, plan.videoCodec, container.video],
  ];
  for (const [enabled, chosen, compatible] of checks) {
    if (!enabled) continue;
    if (chosen === "" && compatible.length === 0) return "no supported codec is compatible with all outputs";
    if (chosen !== "" && !compatible.includes(chosen)) {
      return `format ${container.mime} incompatible with codec ${chosen}`;
    }
  }
  return null;
}

/**
 * Picks the container and checks that the chosen codecs fit in it, with egress' messages for a
 * mismatch. DEFAULT_FILETYPE takes the first container that fits: OGG then MP4 for audio only,
 * MP4 otherwise.
 */
export function resolveFileFormat(fileType: EncodedFileType, plan: EncodingPlan): FileFormat {
  let candidates: Container[];
  if (fileType === EncodedFileType.MP4) candidates = [CONTAINERS.mp4];
  else if (fileType === EncodedFileType.OGG) candidates = [CONTAINERS.ogg];
  else if (fileType === EncodedFileType.MP3) candidates = [CONTAINERS.mp3];
  else candidates = plan.videoEnabled ? [CONTAINERS.mp4] : [CONTAINERS.ogg, CONTAINERS.mp4];

  const [only] = candidates;
  if (candidates.length === 1 && only) {
    const problem = codecProblem(only, plan);
    if (problem) throw new TwirpError("invalid_argument", problem);
    return { contentType: only.mime, extension: only.extension };
  }
  const fitting = candidates.find((container) => codecProblem(container, plan) === null);
  if (!fitting) {
    throw new TwirpError(
      "invalid_argument",
      "no supported file output type is compatible with the selected codecs",
    );
  }
  return { contentType: fitting.mime, extension: fitting.extension };
}
