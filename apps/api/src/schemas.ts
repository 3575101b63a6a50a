// The request and response shapes of the API, in one place: handlers validate with these
// schemas and /openapi.json is generated from them (openapi.ts), so the two cannot drift apart.
import { encodingOverridesSchema, LAYOUTS, TENANT_NAME } from "@recfleet/config";
import {
  callbackPayloadSchema,
  deliverySchema,
  EGRESS_STATUS_NAMES,
  FILE_FORMATS,
  RECORDING_KINDS,
  recordingIdSchema,
  recordingSchema,
  STATUSES,
  shareSchema,
  storedFileSchema,
} from "@recfleet/recordings";
import { z } from "zod";
import { type FieldError, ProblemError } from "./http/problem.ts";

export const MAX_ROOM_BYTES = 256;
export const MAX_METADATA_BYTES = 4096;
/** The layout of a recording that names none (the first of LiveKit's room composite layouts). */
export const NOTIFY_LOCALES = ["en", "fr"] as const;

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

export const roomSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(MAX_ROOM_BYTES, { error: `must be at most ${MAX_ROOM_BYTES} bytes of UTF-8` })
  .regex(/^[^\p{Cc}]*$/u, { error: "must be printable text (no control characters)" })
  .refine((room) => room.isWellFormed(), { error: "must be valid UTF-8 text" })
  .refine((room) => byteLength(room) <= MAX_ROOM_BYTES, {
    error: `must be at most ${MAX_ROOM_BYTES} bytes of UTF-8`,
  })
  .meta({ description: `LiveKit room name: 1 to ${MAX_ROOM_BYTES} bytes of printable UTF-8.` });

const identitySchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(256, { error: "must be at most 256 characters" })
  .regex(/^[^\p{Cc}]*$/u, { error: "must be printable text (no control characters)" })
  .refine((identity) => identity.isWellFormed(), { error: "must be valid UTF-8 text" });
const trackIdSchema = z
  .string({ error: "must be a string" })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be a track sid such as TR_AMkBvTKs9eMz" });

export const sourceSchema = z
  .discriminatedUnion(
    "type",
    [
      z
        .strictObject({ type: z.literal("room") })
        .meta({ description: "The room, composited (the default)." }),
      z
        .strictObject({
          type: z.literal("participant"),
          identity: identitySchema,
          screenShare: z.boolean({ error: "must be true or false" }).default(false),
        })
        .meta({
          description:
            "One participant: its camera (or its screen share, with screenShare) and its microphone. Egress waits up to 30 s for it to be in the room.",
        }),
      z
        .strictObject({
          type: z.literal("tracks"),
          audioTrackId: trackIdSchema.optional(),
          videoTrackId: trackIdSchema.optional(),
        })
        .refine((tracks) => tracks.audioTrackId !== undefined || tracks.videoTrackId !== undefined, {
          error: "must name audioTrackId, videoTrackId or both",
        })
        .meta({ description: "Chosen tracks (track composite): an audio track, a video track or both." }),
      z.strictObject({ type: z.literal("track"), trackId: trackIdSchema }).meta({
        description:
          "One track as it was published, without transcoding (track egress): kind must be the track's (audio or video); no profile or encoding applies, and its one file is in the container of the track's codec. Egress waits up to 30 s for the track.",
      }),
      z
        .strictObject({
          type: z.literal("web"),
          url: z
            .string({ error: "must be a string" })
            .max(2048, { error: "must be at most 2048 characters" })
            .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
              error: "must be an http(s) URL",
            }),
          awaitStartSignal: z.boolean({ error: "must be true or false" }).default(false),
        })
        .meta({
          description:
            "A web page (web egress), under one of the service's web source URLs (GET /v1/profiles, webSourceUrls); no LiveKit room is involved, room only files the recording. With awaitStartSignal, egress records from the page's console.log('START_RECORDING') instead of from its load.",
        }),
    ],
    { error: "must be room, participant, tracks, track or web (an object with that type)" },
  )
  .meta({ description: "What to record; the room when absent." });

const wholeNumber = (min: number, max: number, unit: string) =>
  z
    .number({ error: `must be a whole number ${unit}from ${min} to ${max}` })
    .int({ error: `must be a whole number ${unit}from ${min} to ${max}` })
    .min(min, { error: `must be a whole number ${unit}from ${min} to ${max}` })
    .max(max, { error: `must be a whole number ${unit}from ${min} to ${max}` });

/** Stream URLs a recording may send to at once (the outputs' and a PATCH's limit). */
export const MAX_STREAM_URLS = 10;

// A stream URL holds its key: no message here ever repeats the value.
const streamUrlSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(2048, { error: "must be at most 2048 characters" })
  .meta({ description: "rtmp://, rtmps:// (host/app/stream-key) or srt:// (host:port) URL." });

const streamUrlsSchema = z
  .array(streamUrlSchema, { error: "must be a list of stream URLs" })
  .min(1, { error: "must name at least one URL" })
  .max(MAX_STREAM_URLS, { error: `must name at most ${MAX_STREAM_URLS} URLs` });

export const outputsSchema = z
  .array(
    z.discriminatedUnion(
      "type",
      [
        z
          .strictObject({
            type: z.literal("file"),
            format: z.enum(FILE_FORMATS, { error: "must be mp4, ogg or webm" }).optional(),
          })
          .meta({
            description:
              "One file: MP4 (H.264/AAC) for a video recording, OGG (Opus) for an audio one; the kind's when format is absent. A track source's file is in its codec's container (OGG for Opus, MP4 for H.264, WebM for VP8/VP9): a format given there is checked against the track when the recording starts.",
          }),
        z
          .strictObject({
            type: z.literal("hls"),
            segmentSeconds: wholeNumber(1, 60, "of seconds ").default(4),
            livePlaylist: z.boolean({ error: "must be true or false" }).default(false),
          })
          .meta({
            description:
              "HLS: segments of segmentSeconds (egress' default 4) and a playlist closed when the recording ends; with livePlaylist, also a sliding playlist of the last five segments.",
          }),
        z
          .strictObject({
            type: z.literal("images"),
            intervalSeconds: wholeNumber(1, 3600, "of seconds ").default(10),
            width: wholeNumber(16, 7680, "of pixels ").optional(),
            height: wholeNumber(16, 4320, "of pixels ").optional(),
          })
          .meta({
            description:
              "JPEG thumbnails every intervalSeconds (egress' default 10), width × height (each the video's when absent). Not for an audio recording.",
          }),
        z
          .strictObject({
            type: z.literal("stream"),
            urls: streamUrlsSchema,
          })
          .meta({
            description: `Live streams to RTMP(S) or SRT destinations (all of one protocol), at most ${MAX_STREAM_URLS}. A stream key is a secret: answers, logs, jobs and emails show each URL with its key redacted as egress does (rtmp://host/app/{abc...xyz}), and a stream-only recording stores nothing and ends stopped → notified.`,
          }),
      ],
      { error: "must be file, hls, images or stream (an object with that type)" },
    ),
    { error: "must be a list of outputs" },
  )
  .min(1, { error: "must name at least one output" })
  .max(4, { error: "must name at most one output of each type" })
  .meta({
    description:
      "Where the recording goes: one or several outputs, at most one of each type; one file of the kind when absent.",
  });

/** How deep metadata may nest; deeper input is refused before anything recurses over it. */
const MAX_METADATA_DEPTH = 32;

/** Depth of a parsed JSON value, measured without recursion (hostile input can nest thousands deep). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== "object" || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_METADATA_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const metadataSchema = z
  .record(z.string(), z.unknown(), { error: "must be a JSON object" })
  .refine((metadata) => depthOf(metadata) <= MAX_METADATA_DEPTH, {
    error: `must not nest deeper than ${MAX_METADATA_DEPTH} levels`,
    abort: true,
  })
  .refine((metadata) => byteLength(JSON.stringify(metadata)) <= MAX_METADATA_BYTES, {
    error: `must be at most ${MAX_METADATA_BYTES} bytes once serialized as JSON`,
  })
  .meta({
    description: `Free JSON object stored with the recording, at most ${MAX_METADATA_BYTES} bytes serialized.`,
  });

// RFC 5321 §4.5.3.1: a local part of at most 64 octets, a domain of at most 255 and a path
// (with its angle brackets) of at most 256, so an address of at most 254.
const emailSchema = z
  .email({ error: "must be an email address" })
  .max(254, { error: "must be at most 254 characters (RFC 5321)" })
  .refine((email) => email.slice(0, email.lastIndexOf("@")).length <= 64, {
    error: "must have a local part (before the @) of at most 64 characters (RFC 5321)",
  })
  .meta({
    description: "An email address, at most 254 characters with a local part of at most 64 (RFC 5321).",
  });

export const createRecordingRequestSchema = z
  .strictObject({
    room: roomSchema,
    kind: z
      .enum(RECORDING_KINDS, { error: `must be one of ${RECORDING_KINDS.join(", ")}` })
      .default("video")
      .meta({ description: "video (MP4) or audio (OGG)." }),
    source: sourceSchema.optional(),
    outputs: outputsSchema.optional(),
    profile: z
      .string({ error: "must be a string" })
      .min(1, { error: "must not be empty" })
      .max(100, { error: "must be at most 100 characters" })
      .optional()
      .meta({ description: "Encoding profile name (GET /v1/profiles); the default profile when absent." }),
    layout: z
      .enum(LAYOUTS, { error: `must be one of ${LAYOUTS.join(", ")}` })
      .optional()
      .meta({ description: "Room composite layout; the configured default (DEFAULT_LAYOUT) when absent." }),
    encoding: encodingOverridesSchema.optional().meta({
      description:
        "Encoding settings on top of the profile (width, height, framerate, videoBitrate and audioBitrate in kbps, keyFrameInterval in seconds), by egress' rules and within the service's bounds (GET /v1/profiles, overrideBounds). An audio recording takes audioBitrate only.",
    }),
    customBaseUrl: z
      .string({ error: "must be a string" })
      .max(2048, { error: "must be at most 2048 characters" })
      .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
        error: "must be an http(s) URL",
      })
      .optional()
      .meta({
        description:
          "A custom recording template egress opens instead of its own; it must lie under one of the service's template URLs (GET /v1/profiles, customBaseUrls).",
      }),
    notify: z
      .strictObject({
        email: emailSchema,
        locale: z.enum(NOTIFY_LOCALES, { error: `must be one of ${NOTIFY_LOCALES.join(", ")}` }).optional(),
      })
      .optional()
      .meta({ description: "Who is emailed the download link (or the failure) and in which language." }),
    metadata: metadataSchema.nullable().optional(),
    roomWaitSeconds: z
      .number({ error: "must be a whole number of seconds from 1 to 3600" })
      .int({ error: "must be a whole number of seconds from 1 to 3600" })
      .min(1, { error: "must be a whole number of seconds from 1 to 3600" })
      .max(3600, { error: "must be a whole number of seconds from 1 to 3600" })
      .optional()
      .meta({
        description:
          "How long to wait for the room to open in LiveKit when it does not exist yet, before failing room_not_found; the recorder's default (RECORDER_ROOM_WAIT_MS) when absent.",
      }),
  })
  .meta({ description: "A recording to start." });
export type CreateRecordingRequest = z.output<typeof createRecordingRequestSchema>;

export const createShareRequestSchema = z
  .strictObject({
    expiresInSeconds: z
      .number({ error: "must be a whole number of seconds from 60 to 2592000" })
      .int({ error: "must be a whole number of seconds from 60 to 2592000" })
      .min(60, { error: "must be a whole number of seconds from 60 to 2592000" })
      .max(2_592_000, { error: "must be a whole number of seconds from 60 to 2592000" })
      .default(604_800)
      .meta({
        description:
          "How long the link works (default 7 days, at most 30), never past the recording's expiry.",
      }),
    note: z
      .string({ error: "must be a string" })
      .min(1, { error: "must not be empty" })
      .max(200, { error: "must be at most 200 characters" })
      .regex(/^[^\p{Cc}]*$/u, { error: "must be printable text (no control characters)" })
      .optional()
      .meta({ description: "Who or what the link is for, shown back in the list." }),
  })
  .meta({ description: "A share link to make." });

const shareResponseSchema = shareSchema.extend({ links: z.object({ self: z.string() }) }).meta({
  description: "A share link: opens the recording's watch page while it is neither expired nor revoked.",
});

export const createdShareSchema = shareResponseSchema
  .extend({ url: z.string().meta({ description: "The watch page's URL, token included: shown this once." }) })
  .meta({ description: "A share link just made, with its URL." });

export const shareListSchema = z
  .object({ items: z.array(shareResponseSchema) })
  .meta({ description: "A recording's share links, oldest first; their tokens are never shown again." });

export const stopRecordingRequestSchema = z
  .strictObject({
    reason: z
      .string({ error: "must be a string" })
      .min(1, { error: "must not be empty" })
      .max(200, { error: "must be at most 200 characters" })
      .regex(/^[^\p{Cc}]*$/u, { error: "must be printable text (no control characters)" })
      .optional()
      .meta({ description: "Why, written on the recording's timeline." }),
  })
  .meta({ description: "Optional body of a stop request." });

export const updateRecordingRequestSchema = z
  .strictObject({
    layout: z
      .enum(LAYOUTS, { error: `must be one of ${LAYOUTS.join(", ")}` })
      .optional()
      .meta({ description: "The room composite's new layout, applied while it records (UpdateLayout)." }),
    streams: z
      .strictObject({
        add: z
          .array(streamUrlSchema, { error: "must be a list of stream URLs" })
          .max(MAX_STREAM_URLS, { error: `must name at most ${MAX_STREAM_URLS} URLs` })
          .default([])
          .meta({ description: "Whole URLs to start streaming to, of the protocol the output has." }),
        remove: z
          .array(z.string({ error: "must be a string" }).max(2048), {
            error: "must be a list of stream URLs",
          })
          .max(MAX_STREAM_URLS, { error: `must name at most ${MAX_STREAM_URLS} URLs` })
          .default([])
          .meta({
            description:
              "URLs to stop streaming to, as the recording shows them (outputs[].urls, key redacted) or whole.",
          }),
      })
      .refine((streams) => streams.add.length + streams.remove.length > 0, {
        error: "must add or remove at least one URL",
      })
      .optional()
      .meta({
        description:
          "Stream URLs added to and removed from the stream output while it records (UpdateStream); at least one stays.",
      }),
  })
  .refine((body) => body.layout !== undefined || body.streams !== undefined, {
    error: "must change layout or streams",
  })
  .meta({ description: "A change to a recording in progress: its layout, its stream URLs, or both." });

export const listRecordingsQuerySchema = z.strictObject({
  tenant: z.string().regex(TENANT_NAME, { error: "must be a tenant name" }).optional().meta({
    description: "Only this tenant's recordings; admin keys only (other keys always list their own).",
  }),
  room: roomSchema.optional(),
  status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: "must be a whole number from 1 to 100" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, { error: "must be a whole number from 1 to 100" })
        .max(100, { error: "must be a whole number from 1 to 100" }),
    )
    .optional()
    .meta({ description: "Page size, 1 to 100 (default 20)." }),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, { error: "must be a nextCursor from a previous page" })
    // The store's cursors are base64url recording ids: refuse anything else instead of paging oddly.
    .refine(
      (cursor) => recordingIdSchema.safeParse(Buffer.from(cursor, "base64url").toString("utf8")).success,
      {
        error: "must be a nextCursor from a previous page",
      },
    )
    .optional()
    .meta({ description: "nextCursor of the previous page." }),
});
export const DEFAULT_PAGE_SIZE = 20;

export const linksSchema = z.object({
  self: z.string().meta({ description: "URL of this recording." }),
  stop: z
    .string()
    .nullable()
    .meta({ description: "URL that stops it; null once it is no longer in progress." }),
});

export const recordingResponseSchema = recordingSchema
  .extend({ links: linksSchema })
  .meta({ description: "A recording, its timeline and links." });

export const recordingListSchema = z.object({
  items: z.array(recordingResponseSchema),
  nextCursor: z.string().nullable(),
  links: z.object({ self: z.string(), next: z.string().nullable() }),
});

export const profileSchema = z.object({
  name: z.string(),
  type: z.enum(["preset", "advanced"]),
  description: z.string(),
  default: z.boolean().meta({ description: "Used when a recording names no profile." }),
  preset: z.string().nullable().meta({ description: "LiveKit preset name for preset profiles." }),
  videoCodec: z.string().nullable(),
  settings: z
    .object({
      width: z.number().int(),
      height: z.number().int(),
      framerate: z.number().int(),
      videoBitrate: z.number().int().meta({ description: "kbps" }),
      audioBitrate: z.number().int().meta({ description: "kbps" }),
      audioFrequency: z.number().int().meta({ description: "Hz" }),
      keyFrameInterval: z.number().nullable().meta({ description: "seconds; null when egress picks" }),
    })
    .meta({ description: "What egress encodes with, whichever way the profile is written." }),
  estimatedMBPer30Min: z
    .object({ video: z.number(), audio: z.number() })
    .meta({ description: "Expected file size of 30 minutes, in MB (10^6 bytes)." }),
  cpuVsDefault: z.string().nullable().meta({ description: "Egress CPU relative to the default preset." }),
});

export const fieldErrorSchema = z.object({
  location: z.enum(["body", "query", "path", "header"]),
  field: z.string().meta({ description: "Dotted path of the field, or the header / parameter name." }),
  pointer: z.string().optional().meta({ description: "RFC 6901 JSON pointer into the body." }),
  message: z.string(),
});

export const profileListSchema = z.object({
  default: z.string(),
  items: z.array(profileSchema),
  overrideBounds: z
    .object({
      maxWidth: z.number().int(),
      maxHeight: z.number().int(),
      maxFramerate: z.number().int(),
      maxVideoBitrate: z.number().int(),
      maxAudioBitrate: z.number().int(),
    })
    .meta({ description: "The largest encoding overrides a recording may ask for." }),
  customBaseUrls: z
    .array(z.string())
    .meta({ description: "Template base URLs a recording's customBaseUrl may lie under; empty: none." }),
  webSourceUrls: z
    .array(z.string())
    .meta({ description: "Base URLs a web source's url may lie under; empty: web sources are refused." }),
});

export const problemSchema = z
  .looseObject({
    type: z.string().meta({ description: "URI of the problem type (https://recfleet.dev/problems/…)." }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().meta({ description: "Path of the request." }),
    requestId: z.string().optional(),
    errors: z.array(fieldErrorSchema).optional().meta({ description: "Per-field problems (400, 422)." }),
    existing: z
      .object({ id: z.string(), status: z.enum(STATUSES), links: z.object({ self: z.string() }) })
      .optional()
      .meta({ description: "recording-in-progress: the recording holding the room." }),
    recording: z
      .object({ id: z.string(), status: z.enum(STATUSES) })
      .optional()
      .meta({ description: "recording-not-in-progress, stop-already-requested: the recording." }),
    validProfiles: z.array(z.string()).optional().meta({ description: "unknown-profile: the known names." }),
  })
  .meta({ description: "RFC 9457 problem details." });

export const healthSchema = z.object({ status: z.literal("ok"), uptimeS: z.number().int() });

export const readinessSchema = z.object({
  status: z.enum(["ready", "not ready"]),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

/** LiveKit's webhook body (documentation: the signature check and decoding are LiveKit's SDK). */
export const webhookEventSchema = z
  .looseObject({
    event: z.string().meta({ description: "egress_started, egress_updated, egress_ended, …" }),
    id: z.string(),
    createdAt: z.string().meta({ description: "Unix seconds." }),
    egressInfo: z
      .looseObject({
        egressId: z.string(),
        roomName: z.string().optional(),
        status: z.enum(EGRESS_STATUS_NAMES).optional(),
        error: z.string().optional(),
        fileResults: z
          .array(z.looseObject({ filename: z.string(), size: z.string().optional(), location: z.string() }))
          .optional(),
        backupStorageUsed: z
          .boolean()
          .optional()
          .meta({ description: "The file went to egress' backup storage." }),
      })
      .optional(),
  })
  .meta({ description: "A LiveKit webhook event (protobuf JSON, camelCase, int64 as strings)." });

export const deliveryResponseSchema = deliverySchema
  .extend({
    links: z.object({
      retry: z
        .string()
        .nullable()
        .meta({ description: "POST here to send it again; null while it is pending." }),
    }),
  })
  .meta({ description: "The delivery of one event to the tenant's callback endpoint, with its attempts." });

export const deliveryListSchema = z.object({ items: z.array(deliveryResponseSchema) });

export const webhookAckSchema = z.object({
  outcome: z.enum(["applied", "ignored"]),
  detail: z.string(),
  recordingId: z.string().nullable(),
});

/** Schemas published under components/schemas, by name. */
export const REQUEST_COMPONENTS = {
  CreateRecordingRequest: createRecordingRequestSchema,
  StopRecordingRequest: stopRecordingRequestSchema,
  UpdateRecordingRequest: updateRecordingRequestSchema,
  CreateShareRequest: createShareRequestSchema,
  LivekitWebhookEvent: webhookEventSchema,
} as const;

export const RESPONSE_COMPONENTS = {
  Recording: recordingResponseSchema,
  StoredFile: storedFileSchema,
  RecordingList: recordingListSchema,
  Profile: profileSchema,
  ProfileList: profileListSchema,
  Problem: problemSchema,
  FieldError: fieldErrorSchema,
  Health: healthSchema,
  Readiness: readinessSchema,
  WebhookAck: webhookAckSchema,
  Delivery: deliveryResponseSchema,
  DeliveryList: deliveryListSchema,
  CallbackPayload: callbackPayloadSchema,
  CreatedShare: createdShareSchema,
  ShareList: shareListSchema,
} as const;

function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** Zod issues as the per-field errors of a problem document. */
export function fieldErrors(error: z.ZodError, location: FieldError["location"]): FieldError[] {
  const errors: FieldError[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const field = path.map(String).join(".");
    errors.push({
      location,
      field: field === "" ? `(${location})` : field,
      ...(location === "body" ? { pointer: pointerOf(path) } : {}),
      message,
    });
  };
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add([...issue.path, key], "unknown field");
    } else {
      add(issue.path, issue.message);
    }
  }
  return errors;
}

/** Parses input with a schema, or throws a 400 validation-error problem listing every field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: FieldError["location"],
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationProblem(fieldErrors(parsed.error, location));
}

/** A 400 validation-error problem listing these field errors. */
export function validationProblem(errors: FieldError[]): ProblemError {
  return new ProblemError("validation-error", {
    detail: errors.map((error) => `${error.field}: ${error.message}`).join("; "),
    errors,
  });
}

/** An error about a body field given by its dotted path (`encoding.width`), with its JSON pointer. */
export function bodyFieldError(field: string, message: string): FieldError {
  return { location: "body", field, pointer: pointerOf(field.split(".")), message };
}
