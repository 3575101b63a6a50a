// The synchronous design the queue benchmark compares recfleet with: the HTTP handler calls
// LiveKit Egress itself and answers only once StartRoomCompositeEgress has answered, so every
// request holds its connection for as long as egress takes.
//   LIVEKIT_URL=… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… PORT=0 node --conditions=@recfleet/source src/servers/sync-start.ts
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createLogger } from "@recfleet/runtime";
import express from "express";
import { EgressClient, EncodedFileOutput, EncodedFileType } from "livekit-server-sdk";

const logger = createLogger("bench-sync-start");
const { LIVEKIT_URL: url, LIVEKIT_API_KEY: key, LIVEKIT_API_SECRET: secret } = process.env;
if (!url || !key || !secret) {
  process.stderr.write("sync-start: LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are required\n");
  process.exit(2);
}
// The same client settings as the recorder: 10 s timeout, no region failover.
const egress = new EgressClient(url, key, secret, { requestTimeout: 10, failover: false });

const app = express();
app.disable("x-powered-by");
app.post("/v1/recordings", express.json({ limit: 16_384, strict: true }), async (req, res) => {
  const room = (req.body as { room?: unknown } | undefined)?.room;
  if (typeof room !== "string" || room === "") {
    res.status(400).json({ error: "room must be a non-empty string" });
    return;
  }
  try {
    const info = await egress.startRoomCompositeEgress(
      room,
      new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: `sync/${room}.mp4` }),
      { layout: "speaker" },
    );
    res.status(201).json({ egressId: info.egressId, room });
  } catch (error) {
    res.status(502).json({ error: (error as Error).message });
  }
});

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
await once(server, "listening");
logger.info({ port: (server.address() as AddressInfo).port }, "sync start listening");

const shutdown = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
