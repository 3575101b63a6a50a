import type { AddressInfo } from "node:net";
import { checkEvictionPolicy, createRedisConnection } from "@recfleet/queues";
import { runApp } from "@recfleet/runtime";
import express from "express";

await runApp({
  name: "api",
  sections: ["redis", "api"],
  shutdownDeadlineMs: (config) => config.api.shutdownGraceMs + 2000,
  start: async ({ config, logger, lifecycle }) => {
    const redis = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis", () => redis.quit());
    await checkEvictionPolicy(redis, logger);
    const app = express();
    app.get("/healthz", (_req, res) => {
      res.json({ status: "ok" });
    });
    app.get("/readyz", async (_req, res) => {
      try {
        await redis.ping();
        res.json({ status: "ready" });
      } catch {
        res.status(503).json({ status: "not ready" });
      }
    });
    const server = app.listen(config.api.port, config.api.host);
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    logger.info({ port: (server.address() as AddressInfo).port }, "api listening");
    lifecycle.add("http server", () => new Promise((resolve) => server.close(resolve)));
  },
});
