import { fileURLToPath } from "node:url";
import { loadConfig } from "@recfleet/config";
import { createRedisConnection, JobProducer, waitUntilReady } from "@recfleet/queues";
import { RecordingStore } from "@recfleet/recordings";
import { createLogger } from "@recfleet/runtime";
import {
  type RunningProcess,
  scaled,
  spawnTs,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_KEY,
  API_SECRET,
  createRecording,
  type EgressProcess,
  eventually,
  startEgressProcess,
  statusOf,
} from "./support.ts";

const recorderMain = fileURLToPath(new URL("../src/main.ts", import.meta.url));
let redis: TestRedis;
let egress: EgressProcess;
const recorders: RunningProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  // Egress creates the egress at once but answers Start only 1.5 s later: time to kill the caller.
  egress = await startEgressProcess(["--start-latency-ms", "1500"]);
});
afterAll(async () => {
  for (const recorder of recorders) await recorder.stop("SIGKILL");
  await egress?.process.stop();
  await redis?.stop();
});

describe("a recorder killed during Start", () => {
  it(
    "leaves exactly one egress: the retried start adopts the running egress instead of starting a second one",
    async () => {
      const prefix = uniquePrefix();
      const env = {
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        LIVEKIT_URL: egress.url,
        LIVEKIT_API_KEY: API_KEY,
        LIVEKIT_API_SECRET: API_SECRET,
        LIVEKIT_REQUEST_TIMEOUT_MS: "2000",
        STORAGE_ACCESS_KEY: "recfleet",
        STORAGE_SECRET_KEY: "recfleet-secret",
        HEALTH_PORT: "0",
        RECORDER_LOCK_DURATION_MS: "1500",
        RECORDER_RECONCILE_INTERVAL_MS: "600000",
        LOG_LEVEL: "info",
      };
      const config = loadConfig(["redis"], env);
      const logger = createLogger("test", { level: "silent" });
      const client = createRedisConnection("client", config.redis, logger);
      const producerConnection = createRedisConnection("producer", config.redis, logger);
      await Promise.all([waitUntilReady(client, 5000), waitUntilReady(producerConnection, 5000)]);
      const store = new RecordingStore({ redis: client, prefix, retentionDays: 1 });
      const producer = new JobProducer(producerConnection, prefix);
      const recording = await createRecording(store, {}, egress);
      await producer.enqueue("start", { recordingId: recording.id });

      const first = spawnTs(recorderMain, [], { env });
      recorders.push(first);
      const egressesOfRoom = async () =>
        (await egress.egresses()).filter((snapshot) => snapshot.info.room_name === recording.room);
      // Egress has accepted the Start; the recorder is still waiting for the answer.
      await eventually(
        async () => ((await egressesOfRoom()).length === 1 ? true : undefined),
        15_000,
        "egress to accept Start",
      );
      first.child.kill("SIGKILL");
      expect(await first.exited).toBe("SIGKILL");
      expect((await store.get(recording.id))?.egressId).toBeNull();

      const second = spawnTs(recorderMain, [], { env });
      recorders.push(second);
      const active = await statusOf(store, recording.id, "active", 30_000);
      const egresses = await egressesOfRoom();
      expect(egresses).toHaveLength(1);
      expect(active.egressId).toBe(egresses[0]?.info.egress_id);
      expect(active.timeline.at(-1)?.reason).toMatch(/^adopted egress EG_\w+ started by a previous attempt$/);
      const starts = (await egress.startRequests()).filter(
        (request) => request.body.roomName === recording.room,
      );
      expect(starts).toHaveLength(1);
      expect(await second.stop("SIGTERM")).toBe(0);
      await producer.close();
      client.disconnect();
      producerConnection.disconnect();
    },
    scaled(60_000),
  );
});
