import { APP_SECTIONS, ConfigError, recordingsKeyPrefix } from "@recfleet/config";
import { checkEvictionPolicy, createRedisConnection, JobProducer } from "@recfleet/queues";
import { RecordingStore, recordingIdFloor, s3StorageReader } from "@recfleet/recordings";
import { createMetricsRegistry, runApp, startHealthServer, withTimeout } from "@recfleet/runtime";
import { Client as MinioClient } from "minio";
import { ResyncCheckpoint } from "./checkpoint.ts";
import { handleObject } from "./file-handler.ts";
import { createListenerMetrics } from "./metrics.ts";
import { isListenStreamCrash } from "./stream-crash.ts";
import { BucketWatcher } from "./watcher.ts";

await runApp({
  name: "storage-listener",
  sections: APP_SECTIONS["storage-listener"],
  shutdownDeadlineMs: () => 15_000,
  start: async ({ config, logger, lifecycle }) => {
    // Without bucket events there is nothing to listen to: running it would only reconnect forever.
    if (config.storage.events === "none") {
      throw new ConfigError([
        {
          env: "STORAGE_EVENTS",
          key: "storage.events",
          message:
            "is none: this store sends no bucket events, so the storage listener has nothing to do; do not run it (the recorder looks for files in the bucket)",
        },
      ]);
    }
    const { prefix } = config.redis;
    const client = createRedisConnection("client", config.redis, logger);
    lifecycle.add("redis (store)", () => client.quit());
    const producerConnection = createRedisConnection("producer", config.redis, logger);
    lifecycle.add("redis (producer)", () => producerConnection.quit());
    await checkEvictionPolicy(client, logger);
    const producer = new JobProducer(producerConnection, prefix);
    lifecycle.add("queues", () => producer.close());

    const registry = createMetricsRegistry("storage-listener");
    const metrics = createListenerMetrics(registry);
    const store = new RecordingStore({
      redis: client,
      prefix,
      retentionDays: config.recordings.retentionDays,
    });
    const { storage } = config;
    const minio = new MinioClient({
      endPoint: storage.endpoint,
      port: storage.port,
      useSSL: storage.useSSL,
      accessKey: storage.accessKey,
      secretKey: storage.secretKey,
      region: storage.region,
    });
    const reader = s3StorageReader(minio, storage.requestTimeoutMs);
    const filesPrefix = recordingsKeyPrefix(storage);
    const watcher = new BucketWatcher({
      minio,
      bucket: storage.bucket,
      prefix: filesPrefix,
      checkpoint: new ResyncCheckpoint(client, prefix),
      // Only keys of recordings that can still be saved: after the oldest one waiting, or, when
      // none waits, after the ids minted before the margin (clocks of API replicas differ).
      scanFrom: async () => {
        const oldest = await store.oldestAwaitingFiles();
        const floor = oldest ?? recordingIdFloor(Date.now() - config.listener.resyncMarginMs);
        return `${filesPrefix}/${floor}`;
      },
      handle: (object, source) =>
        handleObject(
          {
            store,
            producer,
            reader,
            bucket: storage.bucket,
            prefix: filesPrefix,
            metrics,
            logger,
          },
          object,
          source,
        ),
      resyncIntervalMs: config.listener.resyncIntervalMs,
      resyncMarginMs: config.listener.resyncMarginMs,
      logger,
      metrics,
    });
    // minio-js parses the stream outside its emitter: a malformed line throws from a stream
    // callback. Recover from that one crash; anything else still ends the process.
    process.on("uncaughtException", (error) => {
      if (isListenStreamCrash(error)) {
        logger.warn({ err: { message: error.message } }, "listen stream crashed in minio-js: reconnecting");
        watcher.recoverFromStreamCrash(error);
        return;
      }
      logger.fatal({ err: error }, "uncaught exception");
      logger.flush(() => process.exit(1));
    });

    const health = await startHealthServer({
      ...config.health,
      logger,
      registry,
      checks: {
        redis: () => client.ping(),
        storage: () =>
          withTimeout(minio.bucketExists(storage.bucket), storage.requestTimeoutMs, "bucketExists"),
      },
      status: () => ({ listener: watcher.status() }),
    });
    lifecycle.add("health endpoint", () => health.close());
    watcher.start();
    lifecycle.add("bucket watcher", () => watcher.stop());
  },
});
