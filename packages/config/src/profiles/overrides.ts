import { z } from "zod";
import type { EncodingConfig } from "../schema.ts";
import { type AdvancedProfile, type EncodingProfile, effectiveSettings } from "./model.ts";

// Egress' own rules for EncodingOptions (livekit/egress, pkg/config/encoding options), shared by
// operator profiles and per-recording overrides, so both fail the same way before egress is asked.
const dimension = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .refine((value) => value >= 16 && value % 2 === 0, { error: "must be even and at least 16" });
const kbps = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .positive({ error: "must be positive" });

export const ENCODING_FIELDS = {
  width: dimension,
  height: dimension,
  framerate: z
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be from 1 to 60" })
    .max(60, { error: "must be from 1 to 60" }),
  videoBitrate: kbps,
  audioBitrate: kbps,
  keyFrameInterval: z
    .number({ error: "must be a number" })
    .gt(0, { error: "must be more than 0 and at most 20 seconds" })
    .max(20, { error: "must be more than 0 and at most 20 seconds" }),
} as const;

/** What a recording may change on top of its profile. */
export const encodingOverridesSchema = z.strictObject({
  width: ENCODING_FIELDS.width.optional(),
  height: ENCODING_FIELDS.height.optional(),
  framerate: ENCODING_FIELDS.framerate.optional(),
  videoBitrate: ENCODING_FIELDS.videoBitrate.optional(),
  audioBitrate: ENCODING_FIELDS.audioBitrate.optional(),
  keyFrameInterval: ENCODING_FIELDS.keyFrameInterval.optional(),
});
export type EncodingOverrides = z.infer<typeof encodingOverridesSchema>;

/** The override fields an audio-only (OGG) recording uses: egress encodes only its audio. */
export const AUDIO_OVERRIDES: readonly (keyof EncodingOverrides)[] = ["audioBitrate"];

const BOUND: Partial<Record<keyof EncodingOverrides, { key: keyof EncodingConfig; unit: string }>> = {
  width: { key: "maxWidth", unit: "pixels" },
  height: { key: "maxHeight", unit: "pixels" },
  framerate: { key: "maxFramerate", unit: "frames per second" },
  videoBitrate: { key: "maxVideoBitrate", unit: "kbps" },
  audioBitrate: { key: "maxAudioBitrate", unit: "kbps" },
};

/** Each override above the operator's bounds (ENCODING_MAX_*), as field → message. */
export function overridesOutOfBounds(
  overrides: EncodingOverrides,
  bounds: EncodingConfig,
): { field: keyof EncodingOverrides; message: string }[] {
  const problems: { field: keyof EncodingOverrides; message: string }[] = [];
  for (const [field, value] of Object.entries(overrides) as [keyof EncodingOverrides, number][]) {
    const bound = BOUND[field];
    if (bound && value > (bounds[bound.key] as number)) {
      problems.push({ field, message: `must be at most ${bounds[bound.key]} ${bound.unit} on this service` });
    }
  }
  return problems;
}

/**
 * A profile with a recording's overrides applied. A preset profile becomes advanced, starting
 * from the settings its preset stands for: egress takes either a preset or explicit options.
 */
export function withOverrides(
  profile: EncodingProfile,
  overrides: EncodingOverrides | null,
): EncodingProfile {
  if (overrides === null || Object.keys(overrides).length === 0) return profile;
  const base: AdvancedProfile =
    profile.type === "advanced"
      ? profile
      : {
          ...effectiveSettings(profile),
          name: profile.name,
          description: profile.description,
          type: "advanced",
          // What egress uses with a preset (livekit/egress, pkg/config/pipeline.go defaults):
          // H.264 main, 24-bit, and no key-frame interval of its own (0: the encoder's).
          keyFrameInterval: 0,
          videoCodec: "H264_MAIN",
          depth: 24,
        };
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { ...base, ...defined };
}
