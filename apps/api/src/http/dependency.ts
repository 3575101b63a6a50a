import { TimeoutError, withTimeout } from "@recfleet/runtime";
import { ProblemError } from "./problem.ts";

/** Seconds a client should wait before retrying a request answered 503. */
export const RETRY_AFTER_S = 5;

// What ioredis and the producer throw when Redis cannot be reached (offline queue disabled,
// connection lost, command timeout, not ready within the producer's wait).
const UNREACHABLE =
  /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|redis not reachable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND/i;

export function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" || UNREACHABLE.test(error.message);
}

export function serviceUnavailable(detail: string): ProblemError {
  return new ProblemError("service-unavailable", {
    detail,
    headers: { "Retry-After": String(RETRY_AFTER_S) },
  });
}

/**
 * Runs one piece of a handler's Redis work with an overall deadline (on top of each command's
 * own timeout), so a request never hangs on Redis; unreachable Redis becomes a 503 problem.
 */
export type RedisWork = <T>(work: Promise<T>, what: string) => Promise<T>;

export function redisWork(timeoutMs: number): RedisWork {
  return async (work, what) => {
    try {
      return await withTimeout(work, timeoutMs, what);
    } catch (error) {
      if (isRedisUnavailable(error)) {
        throw serviceUnavailable(`Redis is not reachable (${what}); retry shortly.`);
      }
      throw error;
    }
  };
}
