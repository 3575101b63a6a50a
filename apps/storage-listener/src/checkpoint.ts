import type { Redis } from "ioredis";

// Replicas share one checkpoint; it only moves forward.
const ADVANCE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** The time (ms) before which every object has been handled by a completed re-scan. */
export class ResyncCheckpoint {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.key = `${prefix}:listener:checkpoint`;
  }

  async read(): Promise<number | undefined> {
    const value = await this.redis.get(this.key);
    return value === null ? undefined : Number(value);
  }

  async advance(to: number): Promise<void> {
    await this.redis.eval(ADVANCE, 1, this.key, String(to));
  }
}
