import {
  APP_SECTIONS,
  ConfigError,
  loadAutoRecordRules,
  loadProfileCatalog,
  loadTenants,
} from "@recfleet/config";
import {
  checkEvictionPolicy,
  createRedisConnection,
  JobProducer,
  QUEUE_NAMES,
  type QueueName,
} from "@recfleet/queues";
import { RecordingStore } from "@recfleet/recordings";
import { createMetricsRegistry, runApp } from "@recfleet/runtime";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { WebhookReceiver } from "livekit-server-sdk";
import { createApp } from "./app.ts";
import { listen } from "./http/server.ts";

const closeConnection = (redis: Redis) => () => redis.quit().catch(() => redis.disconnect());

await runApp({
  name: "api",
  sections: APP_SECTIONS.api,
  shutdownDeadlineMs: (config) => config.api.shutdownGraceMs + 2000,
  start: async ({ config, logger, lifecycle }) => {
    const tenants = loadTenants({ apiKeys: config.api.apiKeys, file: config.tenants.file });
    // An API nobody can call is a misconfiguration, not a service: refuse to start (exit 78).
    if (tenants.tenants.length === 0) {
      throw new ConfigError([
        {
          env: "API_KEYS",
          key: "api.apiKeys",
          message:
            "must list at least one API key (comma-separated, each at least 16 characters), or TENANTS_FILE tenants with keys",
        },
      ]);
    }
    const profiles = loadProfileCatalog(config.profiles);
    const autoRecord = loadAutoRecordRules({ file: config.autoRecord.file, profiles, tenants });
    // Separate connections: the store's reads and the producer's writes never wait on each other.
    const redis = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis (store)", closeConnection(redis));
    const producerConnection = createRedisConnection("producer", config.redis, logger);
    lifecycle.add("redis (producer)", closeConnection(producerConnection));
    await checkEvictionPolicy(redis, logger);
    const producer = new JobProducer(producerConnection, config.redis.prefix);
    lifecycle.add("queues", () => producer.close());
    const queues = Object.fromEntries(QUEUE_NAMES.map((name) => [name, producer.queue(name)])) as Record<
      QueueName,
      Queue
    >;
    const store = new RecordingStore({
      redis,
      prefix: config.redis.prefix,
      retentionDays: config.recordings.retentionDays,
    });
    const backfilled = await store.backfillTenantIndexes();
    if (backfilled > 0)
      logger.info({ recordings: backfilled }, "recordings made before tenants listed under tenant default");
    const app = createApp({
      config,
      logger,
      tenants,
      autoRecord,
      store,
      producer,
      profiles,
      queues,
      webhookReceiver: new WebhookReceiver(config.livekit.apiKey, config.livekit.apiSecret),
      registry: createMetricsRegistry("api"),
      redis,
      readiness: { redis: () => redis.ping(), "redis-producer": () => producerConnection.ping() },
    });
    const server = await listen(app, config.api, logger);
    lifecycle.add("http server", () => server.close(config.api.shutdownGraceMs));
  },
});
