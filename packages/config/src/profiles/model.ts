// Encoding profiles: the operator-facing knobs of a room composite recording. Values pass
// straight through to LiveKit Egress (x264 + AAC/Opus). See docs/encoding-profiles.md.

export const VIDEO_CODECS = ["H264_BASELINE", "H264_MAIN", "H264_HIGH"] as const;
export type VideoCodecName = (typeof VIDEO_CODECS)[number];

/** LiveKit's encoding presets with the settings egress applies for each. */
export const PRESETS = {
  H264_720P_30: { width: 1280, height: 720, framerate: 30, videoBitrate: 3000 },
  H264_720P_60: { width: 1280, height: 720, framerate: 60, videoBitrate: 4500 },
  H264_1080P_30: { width: 1920, height: 1080, framerate: 30, videoBitrate: 4500 },
  H264_1080P_60: { width: 1920, height: 1080, framerate: 60, videoBitrate: 6000 },
  PORTRAIT_H264_720P_30: { width: 720, height: 1280, framerate: 30, videoBitrate: 3000 },
  PORTRAIT_H264_720P_60: { width: 720, height: 1280, framerate: 60, videoBitrate: 4500 },
  PORTRAIT_H264_1080P_30: { width: 1080, height: 1920, framerate: 30, videoBitrate: 4500 },
  PORTRAIT_H264_1080P_60: { width: 1080, height: 1920, framerate: 60, videoBitrate: 6000 },
} as const;
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** Audio settings every LiveKit preset keeps. */
export const PRESET_AUDIO = { audioBitrate: 128, audioFrequency: 44100 } as const;

interface ProfileBase {
  name: string;
  /** What the profile is for, shown in the API and the docs. */
  description: string;
  /** Egress CPU relative to the default preset, when known (documentation only). */
  cpuVsDefault?: string;
}

/** A profile that sends a LiveKit preset: egress keeps its own defaults for everything else. */
export interface PresetProfile extends ProfileBase {
  type: "preset";
  preset: PresetName;
}

/** A profile that sends explicit EncodingOptions. */
export interface AdvancedProfile extends ProfileBase {
  type: "advanced";
  width: number;
  height: number;
  framerate: number;
  /** kbps */
  videoBitrate: number;
  /** kbps */
  audioBitrate: number;
  /** Hz */
  audioFrequency: number;
  /** seconds */
  keyFrameInterval: number;
  videoCodec: VideoCodecName;
  depth: 8 | 16 | 24;
}

export type EncodingProfile = PresetProfile | AdvancedProfile;

/** The effective video and audio settings of a profile, whichever way it is expressed. */
export interface EffectiveSettings {
  width: number;
  height: number;
  framerate: number;
  videoBitrate: number;
  audioBitrate: number;
  audioFrequency: number;
  /** seconds; null when egress picks (presets) */
  keyFrameInterval: number | null;
}

export function effectiveSettings(profile: EncodingProfile): EffectiveSettings {
  if (profile.type === "preset") {
    return { ...PRESETS[profile.preset], ...PRESET_AUDIO, keyFrameInterval: null };
  }
  const { width, height, framerate, videoBitrate, audioBitrate, audioFrequency, keyFrameInterval } = profile;
  return { width, height, framerate, videoBitrate, audioBitrate, audioFrequency, keyFrameInterval };
}

// Pinned for every advanced profile: a safe drop-in for the default preset.
const PINNED = { audioFrequency: 48000, videoCodec: "H264_MAIN", depth: 24, keyFrameInterval: 4 } as const;

export const BUILTIN_PROFILES: readonly EncodingProfile[] = [
  {
    name: "default",
    type: "preset",
    preset: "H264_720P_30",
    description: "Unchanged LiveKit behaviour (preset H264_720P_30, no advanced options sent).",
    cpuVsDefault: "100 %",
  },
  {
    name: "balanced",
    type: "advanced",
    ...PINNED,
    width: 1280,
    height: 720,
    framerate: 20,
    videoBitrate: 1000,
    audioBitrate: 96,
    description: "Mixed content, moderate motion.",
    cpuVsDefault: "~67 %",
  },
  {
    name: "low-cpu",
    type: "advanced",
    ...PINNED,
    width: 1280,
    height: 720,
    framerate: 15,
    videoBitrate: 600,
    audioBitrate: 64,
    description: "Talking heads (recommended).",
    cpuVsDefault: "~50 %",
  },
  {
    name: "slide-heavy",
    type: "advanced",
    ...PINNED,
    width: 1280,
    height: 720,
    framerate: 15,
    videoBitrate: 900,
    audioBitrate: 64,
    description: "Screen share with small text.",
    cpuVsDefault: "~55 %",
  },
  {
    name: "minimum-cpu",
    type: "advanced",
    ...PINNED,
    width: 960,
    height: 540,
    framerate: 15,
    videoBitrate: 500,
    audioBitrate: 64,
    description: "Voice-first meetings where text need not be readable.",
    cpuVsDefault: "~30 %",
  },
  {
    name: "audio-heavy",
    type: "advanced",
    ...PINNED,
    width: 1280,
    height: 720,
    framerate: 10,
    videoBitrate: 400,
    audioBitrate: 96,
    description: "Long webinars with low motion.",
    cpuVsDefault: "~35 %",
  },
];

export const RECOMMENDED_PROFILE = "low-cpu";
