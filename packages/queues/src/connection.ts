import type { RedisConfig } from "@recfleet/config";
import type { Logger } from "@recfleet/runtime";
import { Redis, type RedisOptions } from "ioredis";

/**
 * Who uses a connection decides how it behaves when Redis is away:
 * - worker: waits and retries forever (BullMQ requires maxRetriesPerRequest: null);
 * - producer: fails fast, so an HTTP request answers 503 instead of hanging;
 * - client: the recording store and other request-path reads; fails fast like a producer.
 * Each role gets its own connection: a blocked worker connection must never stall the API.
 */
export type ConnectionRole = "worker" | "producer" | "client";

export function redisOptionsFor(role: ConnectionRole, config: RedisConfig): RedisOptions {
  const useTls = config.tls || config.url.startsWith("rediss://");
  const common: RedisOptions = {
    connectionName: `recfleet-${role}`,
    connectTimeout: 5000,
    // Reconnect quickly at first, then at most every 2 s, forever: Redis coming back heals us.
    retryStrategy: (times) => Math.min(100 * times, 2000),
    ...(useTls ? { tls: {} } : {}),
  };
  if (role === "worker") return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  return {
    ...common,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs,
  };
}

export function createRedisConnection(role: ConnectionRole, config: RedisConfig, logger?: Logger): Redis {
  const redis = new Redis(config.url, redisOptionsFor(role, config));
  // Without a listener ioredis prints every reconnect failure to stderr; keep it in the logs.
  let lastMessage = "";
  redis.on("error", (error: Error) => {
    if (error.message === lastMessage) return;
    lastMessage = error.message;
    logger?.warn({ role, err: { message: error.message } }, "redis connection error");
  });
  redis.on("ready", () => {
    if (lastMessage !== "") logger?.info({ role }, "redis connection ready again");
    lastMessage = "";
  });
  return redis;
}

/** Resolves once the connection is ready; rejects after `timeoutMs` (Redis not reachable). */
export async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: with eviction Redis may drop queue keys under
 * memory pressure and jobs vanish. Returns the policy, warning when it is another one.
 */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  try {
    await waitUntilReady(redis, 10_000);
    const info = await redis.info("memory");
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy && policy !== "noeviction") {
      logger.warn(
        { maxmemoryPolicy: policy },
        `redis maxmemory-policy is "${policy}"; set it to "noeviction" or queued jobs can be evicted under memory pressure`,
      );
    }
    return policy;
  } catch (error) {
    logger.warn({ err: { message: (error as Error).message } }, "could not read redis maxmemory-policy");
    return undefined;
  }
}
