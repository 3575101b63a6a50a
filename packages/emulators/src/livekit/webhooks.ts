import { createHash } from "node:crypto";
import { type EgressInfo, type ParticipantInfo, Room, type TrackInfo, WebhookEvent } from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import { EvenDrops } from "../common/faults.ts";
import { newId } from "./ids.ts";
import { signToken } from "./jwt.ts";
import { statusName } from "./status.ts";

export type EgressEventName = "egress_started" | "egress_updated" | "egress_ended";
export type RoomEventName =
  | "room_started"
  | "room_finished"
  | "participant_joined"
  | "participant_left"
  | "track_published"
  | "track_unpublished";
export type WebhookEventName = EgressEventName | RoomEventName;

/** What an event carries besides its name: an egress, or a room with a participant and a track. */
export interface WebhookPayload {
  egressInfo?: EgressInfo;
  room?: Room;
  participant?: ParticipantInfo;
  track?: TrackInfo;
}

export interface WebhookSettings {
  /** Where events are POSTed; null turns webhooks off. */
  url: string | null;
  apiKey: string;
  apiSecret: string;
  /** Each POST's own timeout. */
  timeoutMs: number;
  /** Further attempts after a failed one (network error, 429 or 5xx), like go-retryablehttp. */
  retries: number;
  /** Wait before the first retry; doubles for each next one. */
  retryDelayMs: number;
  /** An event still queued after this long is dropped instead of sent (LiveKit: 30 s). */
  maxAgeMs: number;
}

export type DeliveryOutcome = "pending" | "sent" | "failed" | "dropped";

/** One event as the admin API lists it. */
export interface WebhookDelivery {
  id: string;
  event: WebhookEventName;
  /** The egress' id for egress events, else null. */
  egressId: string | null;
  /** The egress' status for egress events, else null. */
  status: string | null;
  room: string | null;
  participant: string | null;
  url: string;
  queuedAt: string;
  outcome: DeliveryOutcome;
  /** Why it was dropped: the drop-webhooks fault or its age. */
  dropReason?: "fault" | "age";
  attempts: number;
  /** The receiver's HTTP status on the last attempt. */
  responseStatus?: number;
  error?: string;
}

interface QueuedEvent {
  delivery: WebhookDelivery;
  body: string;
  queuedAtMs: number;
}

// LiveKit's webhook tokens are valid for five minutes.
const TOKEN_VALIDITY_SECONDS = 5 * 60;

function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * LiveKit's ResourceURLNotifier: one queue per egress (and one per room for room events) so that
 * each one's events arrive in order, signed
 * `Authorization: <jwt>` with the body's SHA-256, retried a few times, dropped when too old.
 */
export class WebhookNotifier {
  private readonly settings: () => WebhookSettings;
  private readonly dropFraction: () => number;
  private readonly logger: Logger;
  private readonly drops = new EvenDrops();
  private readonly queues = new Map<string, QueuedEvent[]>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly history: WebhookDelivery[] = [];
  /** Each event's body and queue, by id, for a resend. */
  private readonly sent = new Map<string, { body: string; queueKey: string }>();
  private readonly abort = new AbortController();

  constructor(options: {
    settings: () => WebhookSettings;
    dropFraction: () => number;
    logger: Logger;
  }) {
    this.settings = options.settings;
    this.dropFraction = options.dropFraction;
    this.logger = options.logger;
  }

  /**
   * Queues one event. Egress events queue per egress, room events per room; egress events also
   * carry the room's sid and name, as IOInfoService sends them.
   */
  notify(event: WebhookEventName, payload: WebhookPayload): void {
    const { url } = this.settings();
    if (url === null || this.abort.signal.aborted) return;
    const id = newId("EV_");
    const info = payload.egressInfo;
    const room =
      payload.room?.clone() ?? (info ? new Room({ sid: info.roomId, name: info.roomName }) : undefined);
    const body = new WebhookEvent({
      event,
      id,
      createdAt: BigInt(Math.floor(Date.now() / 1000)),
      ...(info ? { egressInfo: info.clone() } : {}),
      ...(room ? { room } : {}),
      ...(payload.participant ? { participant: payload.participant.clone() } : {}),
      ...(payload.track ? { track: payload.track.clone() } : {}),
    }).toJsonString();
    const delivery: WebhookDelivery = {
      id,
      event,
      egressId: info?.egressId ?? null,
      status: info ? statusName(info.status) : null,
      room: room?.name ?? null,
      participant: payload.participant?.identity ?? null,
      url,
      queuedAt: new Date().toISOString(),
      outcome: "pending",
      attempts: 0,
    };
    this.history.push(delivery);
    const queueKey = info ? `egress:${info.egressId}` : `room:${room?.name ?? ""}`;
    this.sent.set(id, { body, queueKey });
    if (this.drops.next(this.dropFraction())) {
      delivery.outcome = "dropped";
      delivery.dropReason = "fault";
      this.logger.info(
        { webhookId: id, event, egressId: delivery.egressId, room: delivery.room },
        "webhook dropped by fault",
      );
      return;
    }
    this.enqueue(queueKey, { delivery, body, queuedAtMs: Date.now() });
  }

  /**
   * Sends an event again, the same id and body newly signed: what LiveKit does when it did not
   * hear the receiver's answer (its delivery is at least once). Answers the new delivery, or
   * undefined for an id it never sent.
   */
  resend(id: string): WebhookDelivery | undefined {
    const first = this.history.find((delivery) => delivery.id === id);
    const sent = this.sent.get(id);
    if (!first || !sent) return undefined;
    const delivery: WebhookDelivery = {
      ...first,
      url: this.settings().url ?? first.url,
      queuedAt: new Date().toISOString(),
      outcome: "pending",
      attempts: 0,
    };
    delete delivery.dropReason;
    delete delivery.responseStatus;
    delete delivery.error;
    this.history.push(delivery);
    this.enqueue(sent.queueKey, { delivery, body: sent.body, queuedAtMs: Date.now() });
    return { ...delivery };
  }

  private enqueue(queueKey: string, event: QueuedEvent): void {
    const queue = this.queues.get(queueKey) ?? [];
    queue.push(event);
    this.queues.set(queueKey, queue);
    if (!this.running.has(queueKey)) {
      const run = this.drain(queueKey).finally(() => this.running.delete(queueKey));
      this.running.set(queueKey, run);
    }
  }

  deliveries(): WebhookDelivery[] {
    return this.history.map((delivery) => ({ ...delivery }));
  }

  /** Resolves once every queued event has been sent, failed or dropped. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  clear(): void {
    this.history.length = 0;
    this.sent.clear();
  }

  /** Stops delivering: queued events are dropped, a POST in flight is aborted. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private async drain(queueKey: string): Promise<void> {
    const queue = this.queues.get(queueKey);
    while (queue && queue.length > 0) {
      const next = queue.shift();
      if (next) await this.deliver(next);
    }
    this.queues.delete(queueKey);
  }

  private async deliver(queued: QueuedEvent): Promise<void> {
    const { delivery } = queued;
    const settings = this.settings();
    for (let attempt = 0; attempt <= settings.retries; attempt += 1) {
      if (attempt > 0) await this.sleep(settings.retryDelayMs * 2 ** (attempt - 1));
      if (this.abort.signal.aborted || Date.now() - queued.queuedAtMs > settings.maxAgeMs) {
        delivery.outcome = "dropped";
        delivery.dropReason = "age";
        this.logger.warn({ webhookId: delivery.id, event: delivery.event }, "webhook dropped: too old");
        return;
      }
      delivery.attempts = attempt + 1;
      try {
        const response = await fetch(delivery.url, {
          method: "POST",
          headers: {
            "content-type": "application/webhook+json",
            authorization: this.sign(queued.body, settings),
          },
          body: queued.body,
          signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), this.abort.signal]),
        });
        await response.arrayBuffer();
        delivery.responseStatus = response.status;
        if (!isRetryable(response.status)) {
          delivery.outcome = "sent";
          delete delivery.error;
          return;
        }
        delivery.error = `receiver answered ${response.status}`;
      } catch (error) {
        delivery.error = (error as Error).message;
      }
    }
    delivery.outcome = "failed";
    this.logger.warn(
      { webhookId: delivery.id, event: delivery.event, attempts: delivery.attempts, error: delivery.error },
      "webhook delivery failed",
    );
  }

  private sign(body: string, settings: WebhookSettings): string {
    const now = Math.floor(Date.now() / 1000);
    const sha256 = createHash("sha256").update(body).digest("base64");
    return signToken(
      { iss: settings.apiKey, nbf: now, exp: now + TOKEN_VALIDITY_SECONDS, sha256 },
      settings.apiSecret,
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
