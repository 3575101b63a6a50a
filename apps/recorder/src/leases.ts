import type { Redis } from "ioredis";

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * At most one Start call in flight per recording, across processes and crashes. A lease is taken
 * before calling Start and released once egress has answered. A recorder that dies mid-call
 * leaves the lease to expire, so the retried job waits until that Start has either surely
 * failed or become visible in ListEgress, where the retry adopts it.
 */
export class StartLeases {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly owner: string;

  constructor(redis: Redis, prefix: string, owner: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.owner = owner;
  }

  private key(recordingId: string): string {
    return `${this.prefix}:rec:start-lease:${recordingId}`;
  }

  /** Takes the lease, or returns how many ms the current holder still has it. */
  async acquire(
    recordingId: string,
    ttlMs: number,
  ): Promise<{ acquired: true } | { acquired: false; remainingMs: number }> {
    const taken = await this.redis.set(this.key(recordingId), this.owner, "PX", ttlMs, "NX");
    if (taken === "OK") return { acquired: true };
    const remainingMs = await this.redis.pttl(this.key(recordingId));
    return { acquired: false, remainingMs: Math.max(remainingMs, 100) };
  }

  async release(recordingId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(recordingId), this.owner);
  }
}
