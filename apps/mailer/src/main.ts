import { checkEvictionPolicy, createRedisConnection } from "@recfleet/queues";
import { createMetricsRegistry, runApp, startHealthServer } from "@recfleet/runtime";

await runApp({
  name: "mailer",
  sections: ["redis", "storage", "smtp", "mailer", "recordings", "health"],
  shutdownDeadlineMs: (config) => config.smtp.timeoutMs + 5000,
  start: async ({ config, logger, lifecycle }) => {
    const redis = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis", () => redis.quit());
    await checkEvictionPolicy(redis, logger);
    const registry = createMetricsRegistry("mailer");
    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checks: { redis: () => redis.ping() },
    });
    lifecycle.add("health endpoint", () => health.close());
  },
});
