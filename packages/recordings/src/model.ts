import {
  AUTO_RECORD_TRIGGERS,
  DEFAULT_TENANT,
  type EncodingOverrides,
  encodingOverridesSchema,
} from "@recfleet/config";
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
 * (egress' participant egress: camera or screen share, and microphone), chosen tracks (track
 * composite), one track as it is published (track egress: no transcoding), or a web page (web
 * egress: an operator-allowed URL, no LiveKit room at all).
 */
export const recordingSourceSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("room") }),
  z.object({ type: z.literal("participant"), identity: z.string(), screenShare: z.boolean() }),
  z.object({
    type: z.literal("tracks"),
    audioTrackId: z.string().nullable(),
    videoTrackId: z.string().nullable(),
  }),
  z.object({ type: z.literal("track"), trackId: z.string() }),
  z.object({
    type: z.literal("web"),
    url: z.string(),
    /** Egress records from the page's `START_RECORDING` console message, not from its load. */
    awaitStartSignal: z.boolean(),
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
    case "track":
      return `track:${encodeURIComponent(source.trackId)}`;
    case "web":
      return `web:${recording.kind}:${encodeURIComponent(source.url)}`;
  }
}

/** Whether egress records the source within a LiveKit room (all but a web page). */
export function recordsRoom(source: RecordingSource): boolean {
  return source.type !== "web";
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

export const FILE_FORMATS = ["mp4", "ogg", "webm"] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
/**
 * A file output: one MP4 (video) or OGG (audio) file; a track recording's file is in the
 * container egress picks for the track's codec (OGG for Opus, MP4 for H.264, WebM for VP8/VP9),
 * `format` null when the request left it to the codec.
 */
export const fileOutputSpecSchema = z.object({
  type: z.literal("file"),
  format: z.enum(FILE_FORMATS).nullable(),
});
/** An HLS output: segments and an EVENT playlist, closed with #EXT-X-ENDLIST when egress ends. */
export const hlsOutputSpecSchema = z.object({
  type: z.literal("hls"),
  /** Egress' segment_duration, in seconds. */
  segmentSeconds: z.number().int().positive(),
  /** Also a sliding live playlist (the last five segments) beside the full one. */
  livePlaylist: z.boolean(),
});
/** JPEG thumbnails every `intervalSeconds`, at `width`×`height` (null: the video's size). */
export const imagesOutputSpecSchema = z.object({
  type: z.literal("images"),
  intervalSeconds: z.number().int().positive(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
});
/**
 * A live stream to RTMP(S) or SRT destinations. The URLs here are the redacted ones
 * (stream-urls.ts): the whole URLs, stream keys and all, never enter the document.
 */
export const streamOutputSpecSchema = z.object({
  type: z.literal("stream"),
  urls: z.array(z.string()).meta({
    description: "The URLs streamed to, each with its stream key redacted ({abc...xyz}) as egress shows it.",
  }),
});
/** Where a recording goes: one or several outputs, at most one of each type (egress' rule). */
export const outputSpecSchema = z.discriminatedUnion("type", [
  fileOutputSpecSchema,
  hlsOutputSpecSchema,
  streamOutputSpecSchema,
  imagesOutputSpecSchema,
]);
export type OutputSpec = z.infer<typeof outputSpecSchema>;
export type OutputType = OutputSpec["type"];

/**
 * The container of a file whose request names none: the kind's, except for a video track, whose
 * codec decides it when the recording starts (null).
 */
export function defaultFileFormat(
  kind: RecordingKind,
  source: RecordingSource = ROOM_SOURCE,
): FileFormat | null {
  if (kind === "audio") return "ogg";
  return source.type === "track" ? null : "mp4";
}

/** The outputs a recording has when the request names none: one file. */
export function defaultOutputs(kind: RecordingKind, source: RecordingSource = ROOM_SOURCE): OutputSpec[] {
  return [{ type: "file", format: defaultFileFormat(kind, source) }];
}

/** Where egress puts a file when its upload fails, when recfleet reads that store. */
const backupLocationSchema = z.object({ bucket: z.string(), key: z.string() });

/** The file of a `file` output, as asked for and as it lands. */
export const filePlanSchema = z.object({
  /** The filepath of the Start request; egress echoes it as file_results[].filename. */
  filepath: z.string(),
  /** Where the object lands: the filepath under egress' own storage prefix. */
  key: z.string(),
  /** The Content-Type egress uploads it with (video/mp4, audio/ogg): the container of the kind. */
  contentType: z.string(),
  backup: backupLocationSchema.nullable(),
});
export type FilePlan = z.infer<typeof filePlanSchema>;

/** The objects of an `hls` output: the request's names and the keys they land under. */
export const hlsPlanSchema = z.object({
  /** The playlist_name of the Start request; egress echoes it as segment_results[].playlist_name. */
  playlistName: z.string(),
  playlistKey: z.string(),
  livePlaylistKey: z.string().nullable(),
  /** Every segment's key starts with this (`…/<id>/seg_`) and ends `.ts`. */
  segmentKeyPrefix: z.string(),
});
export type HlsPlan = z.infer<typeof hlsPlanSchema>;

/** The objects of an `images` output: `<keyPrefix>_<n>.jpeg`, and egress' manifest in `dir`. */
export const imagesPlanSchema = z.object({
  /** The filename_prefix of the Start request; egress echoes it as image_results[].filename_prefix. */
  filenamePrefix: z.string(),
  keyPrefix: z.string(),
  /** The key prefix (ending in /) the images and their manifest `<egressId>.json` land under. */
  dir: z.string(),
});
export type ImagesPlan = z.infer<typeof imagesPlanSchema>;

/** Documents written before recordings had several outputs hold the file's plan at the top. */
function upgradeLegacyOutput(value: unknown): unknown {
  if (typeof value !== "object" || value === null || !("filepath" in value)) return value;
  const { bucket, ...file } = value as { bucket?: unknown } & Record<string, unknown>;
  return { bucket, file, hls: null, images: null };
}

/**
 * What recfleet asked egress for and where each object lands, worked out once when the
 * recording starts: every later check (webhook, bucket event, re-scan, reconciler) compares
 * against this and nothing else.
 */
export const recordingOutputSchema = z.preprocess(
  upgradeLegacyOutput,
  z.object({
    /** The bucket every object lands in (the backup storage's, for a file, aside). */
    bucket: z.string(),
    file: filePlanSchema.nullable(),
    hls: hlsPlanSchema.nullable(),
    images: imagesPlanSchema.nullable(),
  }),
);
export type RecordingOutput = z.infer<typeof recordingOutputSchema>;

/** One stream URL as egress last reported it (EgressInfo.stream_results), its URL redacted. */
export const streamResultSchema = z.object({
  url: z.string(),
  status: z.enum(["active", "finished", "failed"]),
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  error: z.string().nullable(),
  /** Reconnections after the destination dropped it. */
  retries: z.number().int().nonnegative(),
});
export type StreamResult = z.infer<typeof streamResultSchema>;

/** An object of a saved recording, as found in storage: what emails and callbacks link to. */
export const artifactSchema = z.object({
  type: z.enum(["file", "playlist", "live-playlist", "images"]),
  bucket: z.string(),
  /** The object (for images: their manifest). */
  key: z.string(),
  size: z.number().int().nonnegative().nullable(),
  etag: z.string().nullable(),
  contentType: z.string(),
  /** Segments in the final playlist, images in the manifest; null for a file. */
  count: z.number().int().nonnegative().nullable(),
});
export type Artifact = z.infer<typeof artifactSchema>;

/** What started a recording of an auto-record rule. */
export const triggerSchema = z.object({
  rule: z.string(),
  event: z.enum(AUTO_RECORD_TRIGGERS),
  /** The sid of the room, participant or track whose session it records (RM_…, PA_…, TR_…). */
  sid: z.string(),
});
export type RecordingTrigger = z.infer<typeof triggerSchema>;

export const recordingSchema = z.object({
  id: z.string(),
  /** The API consumer that owns it; only its keys (and admin keys) see it. Older documents: default. */
  tenant: z.string().default(DEFAULT_TENANT),
  room: z.string(),
  kind: z.enum(RECORDING_KINDS),
  /** Older documents: the room. */
  source: recordingSourceSchema.default(ROOM_SOURCE),
  /** null for a track recording: egress copies the track's packets, no encoding applies. */
  profile: z.string().nullable(),
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
  /** Where it goes; older documents: the kind's one file. */
  outputs: z.array(outputSpecSchema).min(1).nullable().default(null),
  /** Set when a recorder first picks the recording up; null while queued. */
  output: recordingOutputSchema.nullable().default(null),
  /** Its main object once saved: the file, else the playlist, else the image manifest. */
  file: storedFileSchema.nullable(),
  /** Every final object once saved (older documents: only `file`). */
  artifacts: z.array(artifactSchema).default([]),
  /** Its stream outputs' URLs as egress last reported them; empty without a stream output. */
  streams: z.array(streamResultSchema).default([]),
  /** EgressInfo.updated_at of the report `streams` come from: an older report changes nothing. */
  streamsAsOf: z.iso.datetime().nullable().default(null),
  error: z.object({ code: z.enum(FAILURE_CODES), message: z.string() }).nullable(),
  stopRequested: z.boolean(),
  /** The auto-record rule that started it and the LiveKit session (room, participant or track sid) that did; null: asked for through the API. */
  trigger: triggerSchema.nullable().default(null),
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
  /** Absent: the kind's one file. A stream output's URLs are the redacted ones. */
  outputs?: OutputSpec[];
  /** A stream output's whole URLs, kept apart from the document (RecordingStore.streamUrlsOf). */
  streamUrls?: string[];
  profile: string | null;
  layout: string;
  encoding?: EncodingOverrides | null;
  customBaseUrl?: string | null;
  notify: Recording["notify"];
  metadata: Recording["metadata"];
  roomWaitSeconds?: number;
  /** Days its files are kept once saved; absent: no expiry. */
  expireDays?: number;
  /** Set for a recording an auto-record rule started. */
  trigger?: RecordingTrigger;
}

/** A recording's outputs: as asked for, or the kind's one file for a document written before outputs (a room recording). */
export function outputsOf(recording: { kind: RecordingKind; outputs: OutputSpec[] | null }): OutputSpec[] {
  return recording.outputs ?? defaultOutputs(recording.kind);
}

/** The output of one type a recording asked for, if it did. */
export function outputOfType<T extends OutputType>(
  recording: { kind: RecordingKind; outputs: OutputSpec[] | null },
  type: T,
): Extract<OutputSpec, { type: T }> | undefined {
  return outputsOf(recording).find(
    (output): output is Extract<OutputSpec, { type: T }> => output.type === type,
  );
}

/** Whether a recording writes anything to storage: a stream-only one does not, and is never saved. */
export function storesObjects(recording: { kind: RecordingKind; outputs: OutputSpec[] | null }): boolean {
  return outputsOf(recording).some((output) => output.type !== "stream");
}
