import { DEFAULT_TENANT, type EncodingOverrides, encodingOverridesSchema } from "@recfleet/config";
import { z } from "zod";
import { STATUSES } from "./states.ts";

export const FAILURE_CODES = [
  "room_not_found",
  "no_start_signal",
  "start_failed",
  "egress_failed",
  "egress_aborted",
  "lost",
  "stored_in_backup",
  "stop_failed",
  "notification_failed",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export const RECORDING_KINDS = ["video", "audio"] as const;
export type RecordingKind = (typeof RECORDING_KINDS)[number];

/**
 * What a recording records: the room (a room composite, egress' web template), one participant
 * (egress' participant egress: camera or screen share, and microphone), or chosen tracks (track
 * composite). docs/design/recording-spec.md has the sources still to come.
 */
export const recordingSourceSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("room") }),
  z.object({ type: z.literal("participant"), identity: z.string(), screenShare: z.boolean() }),
  z.object({
    type: z.literal("tracks"),
    audioTrackId: z.string().nullable(),
    videoTrackId: z.string().nullable(),
  }),
]);
export type RecordingSource = z.infer<typeof recordingSourceSchema>;
export const ROOM_SOURCE: RecordingSource = { type: "room" };

/**
 * What one recording holds while in progress, so that two requests cannot record the same thing
 * twice: a room composite holds its room and kind, a participant recording its participant, a
 * track composite its tracks. Parts are URI-encoded: no identity can look like another slot.
 */
export function activeSlotOf(recording: { kind: RecordingKind; source: RecordingSource }): string {
  const { source } = recording;
  switch (source.type) {
    case "room":
      return recording.kind;
    case "participant":
      return `participant:${encodeURIComponent(source.identity)}`;
    case "tracks":
      return `tracks:${encodeURIComponent(source.audioTrackId ?? "")}:${encodeURIComponent(source.videoTrackId ?? "")}`;
  }
}

export const timelineEntrySchema = z.object({
  status: z.enum(STATUSES),
  at: z.iso.datetime(),
  reason: z.string(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const storedFileSchema = z.object({
  /** null in documents written before files could land in another bucket: the recordings bucket. */
  bucket: z.string().nullable().default(null),
  key: z.string(),
  size: z.number().int().nonnegative().nullable(),
  etag: z.string().nullable(),
  contentType: z.string().nullable(),
});
export type StoredFile = z.infer<typeof storedFileSchema>;

/**
 * The file recfleet asked egress for, worked out once when the recording starts: every later
 * check (webhook, bucket event, re-scan, reconciler) compares against this and nothing else.
 */
export const recordingOutputSchema = z.object({
  /** The filepath of the Start request; egress echoes it as file_results[].filename. */
  filepath: z.string(),
  /** Where the object lands: the filepath under egress' own storage prefix. */
  bucket: z.string(),
  key: z.string(),
  /** The Content-Type egress uploads it with (video/mp4, audio/ogg): the container of the kind. */
  contentType: z.string(),
  /** Where egress puts the file when the upload fails, if recfleet reads that store; else null. */
  backup: z.object({ bucket: z.string(), key: z.string() }).nullable(),
});
export type RecordingOutput = z.infer<typeof recordingOutputSchema>;

export const recordingSchema = z.object({
  id: z.string(),
  /** The API consumer that owns it; only its keys (and admin keys) see it. Older documents: default. */
  tenant: z.string().default(DEFAULT_TENANT),
  room: z.string(),
  kind: z.enum(RECORDING_KINDS),
  /** Older documents: the room. */
  source: recordingSourceSchema.default(ROOM_SOURCE),
  profile: z.string(),
  layout: z.string(),
  /** Encoding settings asked for on top of the profile; null: the profile as it is. */
  encoding: encodingOverridesSchema.nullable().default(null),
  /** A custom recording template (from ENCODING_CUSTOM_BASE_URLS); null: egress' own. */
  customBaseUrl: z.string().nullable().default(null),
  notify: z.object({ email: z.string(), locale: z.string().optional() }).nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  /** How long to wait for the room to exist in LiveKit; absent: the recorder's default. */
  roomWaitSeconds: z.number().int().positive().optional(),
  status: z.enum(STATUSES),
  egressId: z.string().nullable(),
  /** Set when a recorder first picks the recording up; null while queued. */
  output: recordingOutputSchema.nullable().default(null),
  file: storedFileSchema.nullable(),
  error: z.object({ code: z.enum(FAILURE_CODES), message: z.string() }).nullable(),
  stopRequested: z.boolean(),
  /** Days its files are kept once saved; null: until the bucket's own lifecycle rules remove them. */
  expireDays: z.number().positive().nullable().default(null),
  /** When its files will be (or were) removed: set when it is saved, from expireDays. */
  expiresAt: z.iso.datetime().nullable().default(null),
  /** Set by DELETE: the files are removed once egress is done with them. */
  deleteRequested: z
    .object({ at: z.iso.datetime(), tenant: z.string(), keyId: z.string() })
    .nullable()
    .default(null),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  timeline: z.array(timelineEntrySchema),
});
export type Recording = z.infer<typeof recordingSchema>;

/** What a caller supplies to create a recording; the store fills in the rest. */
export interface NewRecording {
  /** Absent: the default tenant. */
  tenant?: string;
  room: string;
  kind: RecordingKind;
  /** Absent: the room. */
  source?: RecordingSource;
  profile: string;
  layout: string;
  encoding?: EncodingOverrides | null;
  customBaseUrl?: string | null;
  notify: Recording["notify"];
  metadata: Recording["metadata"];
  roomWaitSeconds?: number;
  /** Days its files are kept once saved; absent: no expiry. */
  expireDays?: number;
}
