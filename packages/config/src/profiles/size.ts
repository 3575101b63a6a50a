import { type EncodingProfile, effectiveSettings } from "./model.ts";

export type RecordingKind = "video" | "audio";

/**
 * Expected file size in MB (10^6 bytes): (video kbps + audio kbps) × seconds ÷ 8 ÷ 1000.
 * Egress encodes at an average bitrate, so real files land close to this.
 */
export function estimateSizeMB(
  profile: EncodingProfile,
  seconds: number,
  kind: RecordingKind = "video",
): number {
  const settings = effectiveSettings(profile);
  const kbps = kind === "audio" ? settings.audioBitrate : settings.videoBitrate + settings.audioBitrate;
  return (kbps * seconds) / 8 / 1000;
}
