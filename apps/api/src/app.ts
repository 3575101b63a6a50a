import type {
  ApiConfig,
  AutoRecordRules,
  EncodingConfig,
  ProfileCatalog,
  RecordingsConfig,
  RedisConfig,
  StorageConfig,
  StreamsConfig,
  TenantRegistry,
} from "@recfleet/config";
import type { JobProducer, QueueName } from "@recfleet/queues";
import { DeliveryLog, type RecordingStore, ShareStore } from "@recfleet/recordings";
import type { Logger } from "@recfleet/runtime";
import type { Queue } from "bullmq";
import express, { type Express, type RequestHandler } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import type { WebhookReceiver } from "livekit-server-sdk";
import type { Registry } from "prom-client";
import { dashboardRouter } from "./dashboard.ts";
import { bearerAuth } from "./http/auth.ts";
import { redisWork } from "./http/dependency.ts";
import { errorHandler, methodNotAllowed, notFound } from "./http/errors.ts";
import { createApiLimits } from "./http/limits.ts";
import { linkBase } from "./http/links.ts";
import { requestContext } from "./http/request-context.ts";
import { createApiMetrics } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import type { RouteContext } from "./routes/context.ts";
import { deliveryRoutes } from "./routes/deliveries.ts";
import { healthRoutes, type ReadinessChecks } from "./routes/health.ts";
import { profileRoutes } from "./routes/profiles.ts";
import { recordingRoutes } from "./routes/recordings.ts";
import { shareRoutes } from "./routes/shares.ts";
import { watchRoutes } from "./routes/watch.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { createWatchMedia } from "./watch/media.ts";

export interface ApiTimeouts {
  /** Deadline of each step of a handler's Redis work (create, enqueue, …). */
  redisWorkMs: number;
  /** Deadline of each /readyz check. */
  readinessMs: number;
  /** Deadline of the Redis reads of a /metrics scrape. */
  metricsMs: number;
}

export interface ApiDeps {
  config: {
    api: ApiConfig;
    redis: RedisConfig;
    recordings: RecordingsConfig;
    encoding: EncodingConfig;
    streams: StreamsConfig;
    storage: StorageConfig;
  };
  logger: Logger;
  store: RecordingStore;
  /** Adds jobs on its own fail-fast ("producer") connection. */
  producer: JobProducer;
  profiles: ProfileCatalog;
  /** API_KEYS and TENANTS_FILE, loaded and checked by loadTenants. */
  tenants: TenantRegistry;
  /** AUTO_RECORD_FILE, loaded and checked by loadAutoRecordRules. */
  autoRecord: AutoRecordRules;
  /** Every queue of the fleet, for the dashboard and the job-count metrics. */
  queues: Record<QueueName, Queue>;
  webhookReceiver: WebhookReceiver;
  registry: Registry;
  /** The store's fail-fast ("client") connection. */
  redis: Redis;
  /** What /readyz checks, by name. */
  readiness: ReadinessChecks;
  timeouts?: Partial<ApiTimeouts>;
}

export function defaultTimeouts(redis: RedisConfig): ApiTimeouts {
  // A step may take a few commands (and the producer's short wait for a reconnect).
  const step = Math.max(3000, redis.commandTimeoutMs * 2);
  return { redisWorkMs: step, readinessMs: 2000, metricsMs: 2000 };
}

/** API_TRUST_PROXY as Express' "trust proxy" setting. */
export function trustProxyOf(setting: string): boolean | number | string[] {
  const value = setting.trim();
  if (value === "" || value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(",").map((entry) => entry.trim());
}

/** The API as an Express app; main.ts listens with it, tests too (with real Redis). */
export function createApp(deps: ApiDeps): Express {
  const { config, logger, registry } = deps;
  const timeouts = { ...defaultTimeouts(config.redis), ...deps.timeouts };
  const metrics = createApiMetrics({
    registry,
    queues: deps.queues,
    store: deps.store,
    logger,
    collectTimeoutMs: timeouts.metricsMs,
  });
  const work = redisWork(timeouts.redisWorkMs);
  const limits = createApiLimits({
    redis: deps.redis,
    prefix: config.redis.prefix,
    work,
    authFailures: config.api.authFailureLimit,
    authWindowSeconds: config.api.authFailureWindowSeconds,
  });
  const ctx: RouteContext = {
    api: config.api,
    logger,
    store: deps.store,
    deliveries: new DeliveryLog(
      deps.redis,
      config.redis.prefix,
      config.recordings.retentionDays * 86_400_000,
    ),
    tenants: deps.tenants,
    producer: deps.producer,
    profiles: deps.profiles,
    encoding: config.encoding,
    streamTargets: { allowPrivate: config.streams.allowPrivateTargets },
    webhookReceiver: deps.webhookReceiver,
    work,
    links: linkBase(config.api.publicUrl),
    limits,
    expireDays: config.recordings.expireDays,
    autoRecord: deps.autoRecord,
    shares: new ShareStore({ redis: deps.redis, prefix: config.redis.prefix }),
    media: createWatchMedia(config.storage),
    storageBucket: config.storage.bucket,
  };
  for (const [name, queue] of Object.entries(deps.queues)) {
    // The connection logs its own errors (once per kind); without a listener a queue would throw.
    queue.on("error", (error: Error) =>
      logger.debug({ queue: name, err: { message: error.message } }, "queue error"),
    );
  }
  if (deps.tenants.tenants.length === 0) {
    logger.error("API_KEYS is empty: every /v1 request will be refused with 401");
  }
  for (const tenant of deps.tenants.tenants) {
    if (tenant.recipientDomains === null) {
      logger.warn(
        { tenant: tenant.name },
        "tenant may have recordings emailed to any address: list its recipientDomains in TENANTS_FILE",
      );
    }
  }

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("trust proxy", trustProxyOf(config.api.trustProxy));
  app.use(requestContext(logger, metrics));
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { "frame-ancestors": ["'none'"] } },
      frameguard: { action: "deny" },
    }),
  );

  app.use(healthRoutes(deps.readiness, timeouts.readinessMs));
  app
    .route("/metrics")
    .get(async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    })
    .all(methodNotAllowed(["GET"]));
  app
    .route("/openapi.json")
    .get((_req, res) => {
      res.json(openApiDocument());
    })
    .all(methodNotAllowed(["GET"]));
  const dashboard = dashboardRouter(config.api, deps.queues, limits);
  if (dashboard) app.use(dashboard);

  // LiveKit signs its webhooks itself: they come before the API key check.
  app.use(webhookRoutes(ctx));
  // A share link is its own access: the watch page comes before the API key check too.
  app.use(watchRoutes(ctx));
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  };
  app.use("/v1", noStore, bearerAuth(deps.tenants, limits));
  app.use(recordingRoutes(ctx));
  app.use(deliveryRoutes(ctx));
  app.use(shareRoutes(ctx));
  app.use(profileRoutes(ctx));

  app.use(notFound);
  app.use(errorHandler(logger, config.api.bodyLimit));
  return app;
}
