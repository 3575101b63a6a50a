import { hostname } from "node:os";
import { APP_SECTIONS, loadProfileCatalog } from "@recfleet/config";
import { checkEvictionPolicy, createRedisConnection, JobProducer } from "@recfleet/queues";
import { RecordingStore, s3StorageReader } from "@recfleet/recordings";
import { createMetricsRegistry, runApp, startHealthServer } from "@recfleet/runtime";
import { Client as MinioClient } from "minio";
import { loadAutoRecord } from "./auto-record.ts";
import type { RecorderContext } from "./context.ts";
import { createEgressClient, createRoomClient } from "./egress-client.ts";
import { StartLeases } from "./leases.ts";
import { createRecorderMetrics } from "./metrics.ts";
import { closeWorker, createRecorderWorker, scheduleReconciler } from "./worker.ts";

await runApp({
  name: "recorder",
  sections: APP_SECTIONS.recorder,
  shutdownDeadlineMs: (config) => config.recorder.shutdownGraceMs + 5000,
  start: async ({ config, logger, lifecycle }) => {
    const profiles = loadProfileCatalog(config.profiles);
    const autoRecord = loadAutoRecord(config, profiles);
    const { prefix } = config.redis;
    const client = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis (store)", () => client.quit());
    const producerConnection = createRedisConnection("producer", config.redis, logger);
    lifecycle.add("redis (producer)", () => producerConnection.quit());
    const workerConnection = createRedisConnection("worker", config.redis, logger);
    lifecycle.add("redis (worker)", () => workerConnection.quit());
    await checkEvictionPolicy(client, logger);

    const producer = new JobProducer(producerConnection, prefix);
    lifecycle.add("queues", () => producer.close());
    const registry = createMetricsRegistry("recorder");
    const egress = createEgressClient(config.livekit);
    const rooms = createRoomClient(config.livekit);
    const minio = new MinioClient({
      endPoint: config.storage.endpoint,
      port: config.storage.port,
      useSSL: config.storage.useSSL,
      accessKey: config.storage.accessKey,
      secretKey: config.storage.secretKey,
      region: config.storage.region,
    });
    const context: RecorderContext = {
      store: new RecordingStore({ redis: client, prefix, retentionDays: config.recordings.retentionDays }),
      producer,
      egress,
      rooms,
      profiles,
      storage: config.storage,
      minio,
      reader: s3StorageReader(minio, config.storage.requestTimeoutMs),
      recorder: config.recorder,
      autoRecord,
      egressTimeoutMs: config.livekit.requestTimeoutMs,
      leases: new StartLeases(client, prefix, `${hostname()}-${process.pid}`),
      metrics: createRecorderMetrics(registry),
      logger,
      now: Date.now,
    };

    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checks: {
        redis: () => client.ping(),
        livekit: () => egress.listEgress({ roomName: "recfleet-readiness-probe" }),
      },
    });
    lifecycle.add("health endpoint", () => health.close());

    await scheduleReconciler(context, config.recorder.reconcileIntervalMs);
    const worker = createRecorderWorker(context, {
      connection: workerConnection,
      lockConnection: client,
      prefix,
      concurrency: config.recorder.concurrency,
      lockDurationMs: config.recorder.lockDurationMs,
      logger,
    });
    lifecycle.add("worker", () => closeWorker(worker, config.recorder.shutdownGraceMs, logger));
  },
});
