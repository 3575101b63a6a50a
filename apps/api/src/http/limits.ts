import type { Tenant } from "@recfleet/config";
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RedisWork } from "./dependency.ts";
import { ProblemError } from "./problem.ts";

/**
 * Every limit of the API, counted in Redis so that it holds across API replicas: failed
 * authentications per client address (the API and the dashboard apart), and each tenant's
 * recordings and emails per hour. Fixed windows: a counter with the window as its TTL.
 */
export interface ApiLimits {
  /** Throws 429 while `address` is blocked for failing to authenticate too often. */
  assertNotBlocked(scope: AuthScope, address: string): Promise<void>;
  /** Counts one failed authentication; throws 429 (instead of 401) once the limit is passed. */
  countFailure(scope: AuthScope, address: string): Promise<void>;
  /**
   * Takes one unit of each of a tenant's hourly limits that applies; throws 429 naming the
   * limit when one is spent. The returned function gives the units back (nothing was created).
   */
  takeTenantUnits(tenant: Tenant, kinds: readonly TenantLimitKind[]): Promise<() => Promise<void>>;
}

export type AuthScope = "api" | "dashboard";
export type TenantLimitKind = "recordingsPerHour" | "emailsPerHour";

export interface ApiLimitsOptions {
  redis: Redis;
  prefix: string;
  work: RedisWork;
  /** Failed authentications one address may make per window before it is refused. */
  authFailures: number;
  authWindowSeconds: number;
}

const HOUR_S = 3600;
const WHAT: Record<TenantLimitKind, string> = {
  recordingsPerHour: "recordings per hour",
  emailsPerHour: "recordings with an email recipient per hour",
};

function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

export function createApiLimits(options: ApiLimitsOptions): ApiLimits {
  const { redis, prefix, work } = options;
  const auth = (scope: AuthScope) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:limit:auth-failures:${scope}`,
      points: options.authFailures,
      duration: options.authWindowSeconds,
      // Once blocked, an address is refused from memory until the window ends: a guessing
      // client costs no Redis round trip.
      inMemoryBlockOnConsumed: options.authFailures + 1,
      inMemoryBlockDuration: options.authWindowSeconds,
    });
  const authLimiters: Record<AuthScope, RateLimiterRedis> = {
    api: auth("api"),
    dashboard: auth("dashboard"),
  };
  const tenantLimiters = new Map<string, RateLimiterRedis>();
  const tenantLimiter = (kind: TenantLimitKind, points: number) => {
    const id = `${kind}:${points}`;
    let limiter = tenantLimiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:limit:${kind}`,
        points,
        duration: HOUR_S,
      });
      tenantLimiters.set(id, limiter);
    }
    return limiter;
  };

  const blocked = (scope: AuthScope, msBeforeNext: number) =>
    new ProblemError("too-many-failed-authentications", {
      detail: `Too many failed authentications from this address${scope === "dashboard" ? " on the dashboard" : ""}; retry in ${retryAfterSeconds(msBeforeNext)} s.`,
      headers: { "Retry-After": retryAfterSeconds(msBeforeNext) },
    });

  return {
    async assertNotBlocked(scope, address) {
      const state = await work(authLimiters[scope].get(address), "checking failed authentications");
      if (state && state.consumedPoints > options.authFailures) throw blocked(scope, state.msBeforeNext);
    },
    async countFailure(scope, address) {
      try {
        await work(authLimiters[scope].consume(address), "counting a failed authentication");
      } catch (error) {
        if (error instanceof RateLimiterRes) throw blocked(scope, error.msBeforeNext);
        throw error;
      }
    },
    async takeTenantUnits(tenant, kinds) {
      const taken: RateLimiterRedis[] = [];
      const giveBack = async () => {
        await Promise.all(
          taken.map((limiter) => work(limiter.reward(tenant.name), "returning a limit unit")),
        );
      };
      for (const kind of kinds) {
        const points = tenant.limits[kind];
        if (points === null) continue;
        const limiter = tenantLimiter(kind, points);
        try {
          await work(limiter.consume(tenant.name), "counting the tenant's limits");
          taken.push(limiter);
        } catch (error) {
          await giveBack();
          if (!(error instanceof RateLimiterRes)) throw error;
          throw new ProblemError("rate-limited", {
            detail: `Tenant "${tenant.name}" may create ${points} ${WHAT[kind]}; retry in ${retryAfterSeconds(error.msBeforeNext)} s.`,
            headers: { "Retry-After": retryAfterSeconds(error.msBeforeNext) },
            extensions: { limit: { name: kind, value: points } },
          });
        }
      }
      return giveBack;
    },
  };
}
