// The baseline of the API intake benchmark: about the least an HTTP intake backed by BullMQ can
// do. Express 5 parses the JSON body (the same parser and limit as the API), one BullMQ `add`
// on the same Redis, then 202. No auth, no validation beyond the room, no recording record.
//   REDIS_URL=redis://… PORT=0 node --conditions=@recfleet/source src/servers/baseline-intake.ts
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createLogger } from "@recfleet/runtime";
import { Queue } from "bullmq";
import express from "express";
import { Redis } from "ioredis";

const logger = createLogger("bench-baseline-intake");
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  process.stderr.write("baseline-intake: REDIS_URL is required\n");
  process.exit(2);
}
const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 5000 });
const queue = new Queue("control", { connection, prefix: "bench-baseline" });
await queue.waitUntilReady();

const app = express();
app.disable("x-powered-by");
app.post("/v1/recordings", express.json({ limit: 16_384, strict: true }), async (req, res) => {
  const room = (req.body as { room?: unknown } | undefined)?.room;
  if (typeof room !== "string" || room === "") {
    res.status(400).json({ error: "room must be a non-empty string" });
    return;
  }
  const job = await queue.add("start", { room });
  res.status(202).json({ id: job.id, room });
});

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
await once(server, "listening");
logger.info({ port: (server.address() as AddressInfo).port }, "baseline intake listening");

const shutdown = () => {
  server.close();
  server.closeAllConnections();
  void queue
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
