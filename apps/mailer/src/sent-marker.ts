import { KEEP_COMPLETED, KEEP_FAILED } from "@recfleet/queues";
import type { KeepJobs } from "bullmq";
import type { Redis } from "ioredis";

export type NotificationKind = "saved" | "failed" | "ended";

export interface SentRecord {
  at: string;
  to: string;
  messageId: string;
  /** The server's 250 answer, e.g. "250 2.0.0 OK: queued as 1A2B3C". */
  response: string;
}

const DAY_S = 24 * 60 * 60;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * How long a marker lives: at least as long as BullMQ keeps the job (so a job re-added under the
 * same id after its removal is still caught) and as long as the recording itself.
 */
export function markerTtlSeconds(recordingRetentionDays: number): number {
  const ageOf = (keep: KeepJobs) => ("age" in keep ? (keep.age ?? 0) : 0);
  return Math.max(ageOf(KEEP_COMPLETED), ageOf(KEEP_FAILED), recordingRetentionDays * DAY_S);
}

/**
 * "This email was accepted by the SMTP server": `<prefix>:mail:sent:<kind>:<recordingId>`,
 * written right after the server's 250 and checked before every send, so a retried or duplicated
 * job finishes its bookkeeping instead of emailing again.
 */
export class SentMarkers {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.ttlSeconds = ttlSeconds;
  }

  key(kind: NotificationKind, recordingId: string): string {
    return `${this.prefix}:mail:sent:${kind}:${recordingId}`;
  }

  sendingKey(kind: NotificationKind, recordingId: string): string {
    return `${this.prefix}:mail:sending:${kind}:${recordingId}`;
  }

  /**
   * Claims the right to send for `ttlMs` (longer than a send can take): a job re-run while the
   * first run is still talking to the server (a stalled lock) waits instead of sending in parallel.
   * Returns 0 when claimed, else how long the other claim has left in milliseconds.
   */
  async claim(kind: NotificationKind, recordingId: string, owner: string, ttlMs: number): Promise<number> {
    const key = this.sendingKey(kind, recordingId);
    const claimed = await this.redis.set(key, owner, "PX", ttlMs, "NX");
    if (claimed === "OK") return 0;
    const remaining = await this.redis.pttl(key);
    return remaining > 0 ? remaining : 1;
  }

  /** Ends a claim, only if it is still ours. */
  async release(kind: NotificationKind, recordingId: string, owner: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.sendingKey(kind, recordingId), owner);
  }

  async get(kind: NotificationKind, recordingId: string): Promise<SentRecord | undefined> {
    const value = await this.redis.get(this.key(kind, recordingId));
    return value === null ? undefined : (JSON.parse(value) as SentRecord);
  }

  /**
   * Writes the marker, retrying a few times: after the server said 250, losing the marker to a
   * Redis blip would mean a second email on the job's next attempt.
   */
  async mark(
    kind: NotificationKind,
    recordingId: string,
    record: SentRecord,
    retryDelaysMs = [100, 500, 2000],
  ) {
    const key = this.key(kind, recordingId);
    const value = JSON.stringify(record);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.redis.set(key, value, "EX", this.ttlSeconds);
        return;
      } catch (error) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
