import { CALLBACK_EVENTS, type CallbackEvent } from "@recfleet/config";
import type { Redis } from "ioredis";
import { z } from "zod";
import { recordingKeys } from "./keys.ts";
import { artifactSchema, recordingSchema } from "./model.ts";
import { STATUSES } from "./states.ts";

/** How one attempt ended. */
export const ATTEMPT_OUTCOMES = [
  /** The receiver answered 2xx. */
  "delivered",
  /** A network error, a timeout, 408, 429 or 5xx: tried again later. */
  "retryable",
  /** Another answer (4xx, a redirect): not tried again. */
  "rejected",
  /** Not sent: the target failed the SSRF checks (its address, its scheme). */
  "refused",
] as const;

export const attemptSchema = z.object({
  at: z.iso.datetime(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  /** The receiver's HTTP status; null when there was no answer. */
  statusCode: z.number().int().nullable(),
  /** What went wrong, in words; null when delivered. */
  error: z.string().nullable(),
  durationMs: z.number().int().nonnegative(),
});
export type DeliveryAttempt = z.infer<typeof attemptSchema>;

export const DELIVERY_STATES = ["pending", "delivered", "failed"] as const;

export const deliverySchema = z.object({
  /** The webhook-id header: one per event, kept across retries and resends. */
  id: z.string(),
  event: z.enum(CALLBACK_EVENTS),
  /** When the recording's status changed (the webhook payload's timestamp). */
  occurredAt: z.iso.datetime(),
  state: z.enum(DELIVERY_STATES),
  /** Attempts, oldest first; only the last MAX_KEPT_ATTEMPTS are kept (attemptCount counts all). */
  attempts: z.array(attemptSchema),
  attemptCount: z.number().int().nonnegative(),
  /** Start of the current retry window: the first failed attempt since it was queued or resent. */
  failingSince: z.iso.datetime().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
  /** Resends asked for through the API. */
  resends: z.number().int().nonnegative(),
});
export type Delivery = z.infer<typeof deliverySchema>;

export const MAX_KEPT_ATTEMPTS = 30;

/**
 * The delivery log of a recording's callbacks: one entry per event, written by the worker that
 * delivers it and read by the API. It lives as long as the recording's record.
 */
export class DeliveryLog {
  private readonly redis: Redis;
  private readonly keyOf: (id: string) => string;
  private readonly ttlMs: number;

  /** @param ttlMs how long a recording's log is kept after its last write */
  constructor(redis: Redis, prefix: string, ttlMs: number) {
    this.redis = redis;
    this.keyOf = recordingKeys(prefix).deliveries;
    this.ttlMs = ttlMs;
  }

  async get(recordingId: string, event: CallbackEvent): Promise<Delivery | undefined> {
    const raw = await this.redis.hget(this.keyOf(recordingId), event);
    return raw ? deliverySchema.parse(JSON.parse(raw)) : undefined;
  }

  /** Every event of the recording, in the order they happened. */
  async list(recordingId: string): Promise<Delivery[]> {
    const all = await this.redis.hgetall(this.keyOf(recordingId));
    return (
      Object.values(all)
        .map((raw) => deliverySchema.parse(JSON.parse(raw)))
        // One change may announce two events (stopped and ready): the lifecycle's order then.
        .sort(
          (a, b) =>
            a.occurredAt.localeCompare(b.occurredAt) ||
            CALLBACK_EVENTS.indexOf(a.event) - CALLBACK_EVENTS.indexOf(b.event),
        )
    );
  }

  async put(recordingId: string, delivery: Delivery): Promise<void> {
    const kept = { ...delivery, attempts: delivery.attempts.slice(-MAX_KEPT_ATTEMPTS) };
    await this.redis
      .multi()
      .hset(this.keyOf(recordingId), delivery.event, JSON.stringify(kept))
      .pexpire(this.keyOf(recordingId), this.ttlMs)
      .exec();
  }
}

/**
 * The body of a callback, per Standard Webhooks: `type`, `timestamp` (when the status changed)
 * and `data`, the recording as it is when the attempt is made — a late retry of
 * recording.started may show it already saved. No timeline and no recipient address: the
 * consumer reads those through the API.
 */
export const callbackPayloadSchema = z
  .object({
    type: z.enum(CALLBACK_EVENTS),
    timestamp: z.iso.datetime().meta({ description: "When the recording's status changed." }),
    // The recording's own fields, as GET shows them, less the timeline, the recipient and the storage details.
    data: recordingSchema
      .pick({
        id: true,
        tenant: true,
        room: true,
        kind: true,
        source: true,
        outputs: true,
        profile: true,
        layout: true,
        egressId: true,
        metadata: true,
        error: true,
        streams: true,
        expiresAt: true,
        deleteRequested: true,
        createdAt: true,
        startedAt: true,
        endedAt: true,
      })
      .extend({
        status: z.enum(STATUSES).meta({ description: "Its status when this attempt was made." }),
        file: z.object({ size: z.number().int().nullable(), contentType: z.string().nullable() }).nullable(),
        download: z.object({ url: z.string(), expiresAt: z.iso.datetime().nullable() }).nullable().meta({
          description: "recording.ready while the file exists: a link to it, valid until expiresAt.",
        }),
        artifacts: z
          .array(
            artifactSchema.pick({ type: true, size: true, contentType: true, count: true }).extend({
              download: z.object({ url: z.string(), expiresAt: z.iso.datetime().nullable() }).nullable(),
            }),
          )
          .meta({
            description:
              "Every final object once saved (the file, the HLS playlists, the thumbnails' index), each with its link in recording.ready (null when MAILER_DOWNLOAD_URL_TEMPLATE serves downloads, and for the main object, which is `download`).",
          }),
      }),
  })
  .meta({ description: "The JSON body of a callback (Standard Webhooks)." });
export type CallbackPayload = z.infer<typeof callbackPayloadSchema>;
