import { loadProfileCatalog } from "@recfleet/config";
import { checkEvictionPolicy, createRedisConnection } from "@recfleet/queues";
import { createMetricsRegistry, runApp, startHealthServer } from "@recfleet/runtime";

await runApp({
  name: "recorder",
  sections: ["redis", "livekit", "storage", "recorder", "profiles", "recordings", "health"],
  shutdownDeadlineMs: (config) => config.recorder.shutdownGraceMs + 5000,
  start: async ({ config, logger, lifecycle }) => {
    loadProfileCatalog(config.profiles);
    const redis = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis", () => redis.quit());
    await checkEvictionPolicy(redis, logger);
    const registry = createMetricsRegistry("recorder");
    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checks: { redis: () => redis.ping() },
    });
    lifecycle.add("health endpoint", () => health.close());
  },
});
