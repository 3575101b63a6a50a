import { fileURLToPath } from "node:url";
import { loadAutoRecordRules, loadConfig, loadProfileCatalog, type RecorderConfig } from "@recfleet/config";
import { type S3Emulator, startS3Emulator } from "@recfleet/emulators/s3";
import { createRedisConnection, JobProducer, waitUntilReady } from "@recfleet/queues";
import { type NewRecording, type Recording, RecordingStore, s3StorageReader } from "@recfleet/recordings";
import { createLogger, createMetricsRegistry } from "@recfleet/runtime";
import { type RunningProcess, scaled, spawnTs, uniquePrefix } from "@recfleet/testing";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { Client as MinioClient } from "minio";
import type { RecorderContext } from "../src/context.ts";
import { createEgressClient, createRoomClient } from "../src/egress-client.ts";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import { StartLeases } from "../src/leases.ts";
import { createRecorderMetrics } from "../src/metrics.ts";
import { createRecorderWorker } from "../src/worker.ts";

export const API_KEY = "recorder-test-key";
export const API_SECRET = "recorder-test-secret-0123456789";
const egressCli = fileURLToPath(new URL("../../../packages/emulators/src/livekit/cli.ts", import.meta.url));

export interface EgressProcess {
  url: string;
  process: RunningProcess;
  admin<T>(path: string, body?: unknown): Promise<T>;
  startRequests(): Promise<{ body: Record<string, unknown>; status: number | null; code: string | null }[]>;
  egresses(): Promise<{ info: Record<string, unknown>; crashed: boolean }[]>;
  /** Opens a room with a participant publishing (or not) a camera and a microphone. */
  openRoom(room: string, options?: { publish?: boolean }): Promise<void>;
  /** The RTMP ingest's port, when started with --rtmp-ingest-port. */
  rtmpIngestPort: number | null;
}

/** The LiveKit emulator as a separate process, driven through its admin endpoint. */
export async function startEgressProcess(
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<EgressProcess> {
  const process = spawnTs(
    egressCli,
    // A full fleet refuses at once here; a test of the real ~20 s refusal sets --refusal-delay-ms.
    ["--port=0", `--api-key=${API_KEY}`, "--activation-delay-ms=50", "--refusal-delay-ms=0", ...extraArgs],
    {
      env: { LIVEKIT_API_SECRET: API_SECRET, ...extraEnv },
    },
  );
  const line = await process.waitForLine(/livekit emulator listening/);
  const { port, rtmpIngestPort } = JSON.parse(line) as { port: number; rtmpIngestPort?: number | null };
  const url = `http://127.0.0.1:${port}`;
  const admin = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}/_admin${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    url,
    process,
    admin,
    rtmpIngestPort: rtmpIngestPort ?? null,
    startRequests: async () =>
      (
        await admin<{
          requests: {
            method: string | null;
            body: Record<string, unknown>;
            status: number | null;
            code: string | null;
          }[];
        }>("/requests")
      ).requests.filter((request) => request.method === "StartRoomCompositeEgress"),
    egresses: async () =>
      (await admin<{ egresses: { info: Record<string, unknown>; crashed: boolean }[] }>("/egresses"))
        .egresses,
    openRoom: async (room, { publish = true } = {}) => {
      await admin(`/rooms/${encodeURIComponent(room)}/participants`, {
        identity: "speaker",
        publish: publish ? ["camera", "microphone"] : [],
      });
    },
  };
}

export interface Harness {
  prefix: string;
  /** The fail-fast connection the store and the reconciler's lock use. */
  client: Redis;
  context: RecorderContext;
  store: RecordingStore;
  producer: JobProducer;
  worker: Worker;
  env: Record<string, string>;
  close(): Promise<void>;
}

const silent = createLogger("recorder-test", { level: process.env.LOG_LEVEL ?? "silent" });

export const S3_CREDENTIALS = { accessKey: "recfleet", secretKey: "recfleet-secret" };
export const BUCKET = "recordings";
let sharedS3: Promise<S3Emulator> | undefined;

/** One S3 emulator per test file, with the bucket the recorder looks in for files. */
export function testS3(): Promise<S3Emulator> {
  sharedS3 ??= startS3Emulator({ ...S3_CREDENTIALS, buckets: [BUCKET], logger: silent });
  return sharedS3;
}

export async function closeTestS3(): Promise<void> {
  const s3 = await sharedS3;
  sharedS3 = undefined;
  await s3?.close();
}

/** The recorder's worker in-process, with the real SDK pointed at the emulator. */
export async function startHarness(options: {
  redisUrl: string;
  egressUrl: string;
  apiSecret?: string;
  recorder?: Partial<RecorderConfig>;
  storage?: Record<string, string>;
  requestTimeoutMs?: number;
  /** AUTO_RECORD_FILE. */
  autoRecordFile?: string;
}): Promise<Harness> {
  const prefix = uniquePrefix();
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    LIVEKIT_URL: options.egressUrl,
    LIVEKIT_API_KEY: API_KEY,
    LIVEKIT_API_SECRET: options.apiSecret ?? API_SECRET,
    LIVEKIT_REQUEST_TIMEOUT_MS: String(options.requestTimeoutMs ?? 5000),
    STORAGE_ACCESS_KEY: S3_CREDENTIALS.accessKey,
    STORAGE_SECRET_KEY: S3_CREDENTIALS.secretKey,
    STORAGE_ENDPOINT: "127.0.0.1",
    STORAGE_PORT: String((await testS3()).port),
    STORAGE_BUCKET: BUCKET,
    ...options.storage,
  };
  const config = loadConfig(["redis", "livekit", "storage", "recorder", "profiles", "recordings"], env);
  const recorder = { ...config.recorder, lockDurationMs: 2000, ...options.recorder };
  const profiles = loadProfileCatalog(config.profiles);
  const client = createRedisConnection("client", config.redis, silent);
  const producerConnection = createRedisConnection("producer", config.redis, silent);
  const workerConnection = createRedisConnection("worker", config.redis, silent);
  await Promise.all([waitUntilReady(client, 5000), waitUntilReady(producerConnection, 5000)]);
  const producer = new JobProducer(producerConnection, prefix);
  const store = new RecordingStore({ redis: client, prefix, retentionDays: 1 });
  const minio = new MinioClient({
    endPoint: config.storage.endpoint,
    port: config.storage.port,
    useSSL: false,
    accessKey: config.storage.accessKey,
    secretKey: config.storage.secretKey,
    region: config.storage.region,
  });
  const context: RecorderContext = {
    store,
    producer,
    egress: createEgressClient(config.livekit),
    rooms: createRoomClient(config.livekit),
    profiles,
    storage: config.storage,
    minio,
    reader: s3StorageReader(minio, config.storage.requestTimeoutMs),
    recorder,
    autoRecord: {
      rules: loadAutoRecordRules({ file: options.autoRecordFile ?? "", profiles, tenants: null }),
      expireDaysOf: () => undefined,
    },
    egressTimeoutMs: config.livekit.requestTimeoutMs,
    leases: new StartLeases(client, prefix, `test-${process.pid}`),
    metrics: createRecorderMetrics(createMetricsRegistry("recorder-test")),
    logger: silent,
    now: Date.now,
  };
  const worker = createRecorderWorker(context, {
    connection: workerConnection,
    lockConnection: client,
    prefix,
    concurrency: 10,
    lockDurationMs: recorder.lockDurationMs,
    logger: silent,
  });
  return {
    prefix,
    client,
    context,
    store,
    producer,
    worker,
    env: { ...env, RECORDER_LOCK_DURATION_MS: String(recorder.lockDurationMs) },
    close: async () => {
      await worker.close(true);
      await producer.close();
      client.disconnect();
      producerConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}

/**
 * A queued recording of a new room. With `livekit`, the room is opened first with someone
 * publishing, as a meeting that is under way; without, the room does not exist in LiveKit.
 */
export async function createRecording(
  store: RecordingStore,
  input: Partial<NewRecording> = {},
  livekit?: Pick<EgressProcess, "openRoom">,
): Promise<Recording> {
  const room = input.room ?? `room-${uniquePrefix()}`;
  await livekit?.openRoom(room);
  const result = await store.create({
    room,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: { email: "owner@example.com" },
    metadata: null,
    ...input,
  });
  if (result.outcome !== "created") throw new Error(`recording not created: ${result.outcome}`);
  return result.recording;
}

/** Polls until `check` returns a value (not undefined), or fails with the last value seen. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the recording reaches the status, returning it. */
export function statusOf(store: RecordingStore, id: string, status: Recording["status"], timeoutMs = 15_000) {
  return eventually(
    async () => {
      const recording = await store.get(id);
      return recording?.status === status ? recording : undefined;
    },
    timeoutMs,
    `recording ${id} to be ${status}`,
  );
}

/** Waits until the recorder has stored the egress of a recording (it is then `starting`). */
export function withEgress(store: RecordingStore, id: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const recording = await store.get(id);
      return recording?.egressId ? recording : undefined;
    },
    timeoutMs,
    `recording ${id} to get an egress`,
  );
}

/**
 * Waits until the recording is `active`. No webhook reaches these tests, so it runs the
 * reconciler, which applies the egress' ACTIVE status as the webhook would.
 */
export async function untilActive(harness: Harness, id: string, timeoutMs = 15_000) {
  await withEgress(harness.store, id, timeoutMs);
  return eventually(
    async () => {
      await handleReconcile(harness.context, harness.client, harness.prefix);
      const recording = await harness.store.get(id);
      return recording?.status === "active" ? recording : undefined;
    },
    timeoutMs,
    `recording ${id} to be active`,
  );
}
