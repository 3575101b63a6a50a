import { CALLBACK_EVENTS, type CallbackEvent } from "@recfleet/config";
import type { Redis } from "ioredis";
import { isInProgress, type RecordingStatus } from "./states.ts";

/**
 * The events a status change announces to the recording's tenant. The store writes them to the
 * event stream in the same atomic step as the change, so an event can be neither lost (the
 * process dies after the change) nor invented (the change lost its compare-and-set).
 */
export function eventsOf(
  from: RecordingStatus,
  to: RecordingStatus,
  errorCode: string | null = null,
): CallbackEvent[] {
  switch (to) {
    case "active":
      return ["recording.started"];
    case "stopped":
      return ["recording.stopped"];
    // The file may land before egress says it ended: the stop is announced with the file then.
    case "saved":
      return isInProgress(from) ? ["recording.stopped", "recording.ready"] : ["recording.ready"];
    // notification_failed is about the email: the recording (its file, or its finished stream,
    // already announced as recording.stopped) is fine.
    case "failed":
      return from === "saved" || errorCode === "notification_failed" ? [] : ["recording.failed"];
    case "cancelled":
      return ["recording.cancelled"];
    case "deleted":
      return ["recording.deleted"];
    case "expired":
      return ["recording.expired"];
    default:
      return [];
  }
}

/** One entry of the event stream. */
export interface RecordingEvent {
  /** The stream entry id, acknowledged once the event's delivery job is queued. */
  streamId: string;
  recordingId: string;
  tenant: string;
  event: CallbackEvent;
  at: string;
}

/** The webhook-id of an event: the same on every attempt, resend and replica (one per event). */
export function webhookIdOf(recordingId: string, event: CallbackEvent): string {
  return `msg_${recordingId}_${event.slice("recording.".length)}`;
}

function entryOf(streamId: string, fields: string[]): RecordingEvent | undefined {
  const value: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) value[fields[i] ?? ""] = fields[i + 1] ?? "";
  const { id, tenant, event, at } = value;
  const known = CALLBACK_EVENTS.find((name) => name === event);
  if (!id || !tenant || !known || !at) return undefined;
  return { streamId, recordingId: id, tenant, event: known, at };
}

type StreamReply = [string, [string, string[]][]][] | null;

/**
 * Reads the event stream as one consumer of a group: new entries, and entries another consumer
 * took and never acknowledged (it died) once they are `claimIdleMs` old.
 */
export class EventStreamReader {
  private readonly redis: Redis;
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer: string;

  constructor(redis: Redis, stream: string, group: string, consumer: string) {
    this.redis = redis;
    this.stream = stream;
    this.group = group;
    this.consumer = consumer;
  }

  /** Creates the group (reading from the stream's start) unless it exists. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup("CREATE", this.stream, this.group, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("BUSYGROUP")) throw error;
    }
  }

  /** Entries abandoned by a consumer that died before acknowledging them. */
  async claimAbandoned(claimIdleMs: number, count: number): Promise<RecordingEvent[]> {
    const reply = (await this.redis.xautoclaim(
      this.stream,
      this.group,
      this.consumer,
      claimIdleMs,
      "0-0",
      "COUNT",
      count,
    )) as [string, [string, string[]][]];
    return this.parse(reply[1]);
  }

  /** New entries, waiting up to `blockMs` for one. */
  async readNew(count: number, blockMs: number): Promise<RecordingEvent[]> {
    const reply = (await this.redis.xreadgroup(
      "GROUP",
      this.group,
      this.consumer,
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      this.stream,
      ">",
    )) as StreamReply;
    return this.parse(reply?.[0]?.[1] ?? []);
  }

  /** Done with these entries: acknowledged and removed, so the stream holds only pending work. */
  async done(streamIds: readonly string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await this.redis
      .multi()
      .xack(this.stream, this.group, ...streamIds)
      .xdel(this.stream, ...streamIds)
      .exec();
  }

  private async parse(entries: [string, string[]][]): Promise<RecordingEvent[]> {
    const events: RecordingEvent[] = [];
    const malformed: string[] = [];
    for (const [streamId, fields] of entries) {
      // A claimed entry that was deleted meanwhile comes back without fields.
      const event = fields ? entryOf(streamId, fields) : undefined;
      if (event) events.push(event);
      else malformed.push(streamId);
    }
    await this.done(malformed);
    return events;
  }
}
