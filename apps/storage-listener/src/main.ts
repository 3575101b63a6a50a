import { checkEvictionPolicy, createRedisConnection } from "@recfleet/queues";
import { createMetricsRegistry, runApp, startHealthServer } from "@recfleet/runtime";

await runApp({
  name: "storage-listener",
  sections: ["redis", "storage", "listener", "recordings", "health"],
  shutdownDeadlineMs: () => 15_000,
  start: async ({ config, logger, lifecycle }) => {
    const redis = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis", () => redis.quit());
    await checkEvictionPolicy(redis, logger);
    const registry = createMetricsRegistry("storage-listener");
    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checks: { redis: () => redis.ping() },
    });
    lifecycle.add("health endpoint", () => health.close());
  },
});
