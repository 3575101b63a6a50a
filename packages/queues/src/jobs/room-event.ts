import { createHash } from "node:crypto";
import { z } from "zod";
import { defineJob } from "../define.ts";
import { QUEUE } from "../names.ts";
import { KEEP_COMPLETED, KEEP_FAILED } from "../retention.ts";

export const ROOM_EVENTS = [
  "room_started",
  "room_finished",
  "participant_joined",
  "participant_left",
  "track_published",
  "track_unpublished",
] as const;
export type RoomEventName = (typeof ROOM_EVENTS)[number];

/** ParticipantInfo.kind, by the name the auto-record rules read. */
export const PARTICIPANT_KINDS = ["standard", "ingress", "egress", "sip", "agent", "other"] as const;
export type ParticipantKind = (typeof PARTICIPANT_KINDS)[number];

/** A ParticipantInfo.kind number (livekit_models.proto: STANDARD 0 … AGENT 4) by its name here. */
export function participantKindName(kind: number): ParticipantKind {
  return kind >= 0 && kind < 5 ? (PARTICIPANT_KINDS[kind] ?? "other") : "other";
}

/** A TrackType number (livekit_models.proto: AUDIO 0, VIDEO 1, DATA 2) by its name here. */
export function trackTypeName(type: number): "audio" | "video" | "data" {
  return type === 0 ? "audio" : type === 1 ? "video" : "data";
}

const sid = z.string().min(1).max(64);

/**
 * A LiveKit room event the auto-record rules may act on (a verified webhook, or what the
 * reconciler read from RoomService): start what a rule records, stop what it ends. The job id is
 * the webhook's id, so a re-delivered webhook queues nothing new; the handler is idempotent by
 * the room, participant and track sids anyway.
 */
export const roomEventJob = defineJob({
  name: "room-event",
  queue: QUEUE.control,
  schema: z.strictObject({
    event: z.enum(ROOM_EVENTS),
    /** The webhook's id (WebhookEvent.id). */
    eventId: z.string().min(1).max(128),
    room: z.string().min(1).max(1024),
    roomSid: sid,
    participant: z
      .strictObject({ sid, identity: z.string().min(1).max(1024), kind: z.enum(PARTICIPANT_KINDS) })
      .nullable(),
    track: z.strictObject({ sid, type: z.enum(["audio", "video", "data"]) }).nullable(),
    /** WebhookEvent.created_at: seconds since the epoch. */
    createdAt: z.number().int().nonnegative(),
  }),
  jobId: (data) => `room-event-${createHash("sha256").update(data.eventId).digest("hex").slice(0, 32)}`,
  options: {
    attempts: 8,
    backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  },
});
