// The one place that turns a profile and a recording kind into what an Egress request needs.
import {
  AudioCodec,
  EncodedFileType,
  EncodingOptions,
  EncodingOptionsPreset,
  VideoCodec,
} from "@livekit/protocol";
import type { EncodingProfile } from "./model.ts";
import type { RecordingKind } from "./size.ts";

export interface EgressEncoding {
  fileType: EncodedFileType;
  extension: "mp4" | "ogg";
  audioOnly: boolean;
  /** Undefined: send nothing and let egress apply its default (preset H264_720P_30). */
  encodingOptions?: EncodingOptions | EncodingOptionsPreset;
}

/** Settings a profile may hold that an audio-only (OGG) recording does not use. */
export const IGNORED_FOR_AUDIO = [
  "width",
  "height",
  "framerate",
  "videoBitrate",
  "videoCodec",
  "keyFrameInterval",
  "depth",
  "preset",
] as const;

export function egressEncodingFor(profile: EncodingProfile, kind: RecordingKind): EgressEncoding {
  if (kind === "audio") {
    // Egress writes Opus into OGG; only the audio bitrate and sample rate carry over.
    const base = { fileType: EncodedFileType.OGG, extension: "ogg", audioOnly: true } as const;
    if (profile.type === "preset") return base;
    return {
      ...base,
      encodingOptions: new EncodingOptions({
        audioCodec: AudioCodec.OPUS,
        audioBitrate: profile.audioBitrate,
        audioFrequency: profile.audioFrequency,
      }),
    };
  }
  const base = { fileType: EncodedFileType.MP4, extension: "mp4", audioOnly: false } as const;
  if (profile.type === "preset") {
    const preset = EncodingOptionsPreset[profile.preset];
    // The default preset is what egress does when nothing is sent: send nothing.
    return preset === EncodingOptionsPreset.H264_720P_30 ? base : { ...base, encodingOptions: preset };
  }
  return {
    ...base,
    encodingOptions: new EncodingOptions({
      width: profile.width,
      height: profile.height,
      depth: profile.depth,
      framerate: profile.framerate,
      audioCodec: AudioCodec.AAC,
      audioBitrate: profile.audioBitrate,
      audioFrequency: profile.audioFrequency,
      videoCodec: VideoCodec[profile.videoCodec],
      videoBitrate: profile.videoBitrate,
      keyFrameInterval: profile.keyFrameInterval,
    }),
  };
}
