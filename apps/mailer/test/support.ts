// Shared by the mailer's integration tests: the SMTP catcher as a separate process, a recording
// driven to saved or failed in a real store, and the mailer's worker running in this process.
import { fileURLToPath } from "node:url";
import type { CallbacksConfig, SmtpConfig, StorageConfig, TenantRegistry } from "@recfleet/config";
import { createRedisConnection, JobProducer, waitUntilReady } from "@recfleet/queues";
import {
  DeliveryLog,
  type FailureCode,
  type Recording,
  RecordingStore,
  redactStreamUrl,
  type StreamResult,
} from "@recfleet/recordings";
import { createLogger, createMetricsRegistry } from "@recfleet/runtime";
import { type RunningProcess, scaled, spawnTs, uniquePrefix } from "@recfleet/testing";
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import PostalMime, { type Email } from "postal-mime";
import type { Registry } from "prom-client";
import type { MailerContext } from "../src/context.ts";
import { createDownloadLinks } from "../src/links.ts";
import { createMailerMetrics } from "../src/metrics.ts";
import type { RetryPolicy } from "../src/retry.ts";
import { SentMarkers } from "../src/sent-marker.ts";
import { createMailTransport } from "../src/transport.ts";
import { closeWorker, createMailerWorker } from "../src/worker.ts";

const SMTP_CLI = fileURLToPath(new URL("../../../packages/emulators/src/smtp/cli.ts", import.meta.url));

export const FROM = "recfleet <no-reply@recfleet.test>";

export interface CaughtMessage {
  id: string;
  subject: string;
  envelope: { from: string; to: string[] };
}

/** The SMTP emulator as its own process, driven through its HTTP API like an operator would. */
export interface SmtpCatcher {
  process: RunningProcess;
  smtpPort: number;
  httpUrl: string;
  messages(to?: string): Promise<CaughtMessage[]>;
  /** Long-polls until `count` messages for `to` arrived. */
  waitForMessages(to: string, count: number, timeoutMs?: number): Promise<CaughtMessage[]>;
  /** The raw message parsed by postal-mime. */
  parsed(id: string): Promise<Email>;
  faults(patch: { failNext?: number; rejectRecipients?: string[] }): Promise<void>;
  resetFaults(): Promise<void>;
  stop(): Promise<number | string>;
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const child = spawnTs(SMTP_CLI, ["--smtp-port", "0", "--http-port", "0"]);
  const line = await child.waitForLine(/"msg":"smtp emulator listening"/, 20_000).catch(async (error) => {
    await child.stop("SIGKILL");
    throw error;
  });
  const { smtpPort, httpUrl } = JSON.parse(line) as { smtpPort: number; httpUrl: string };
  const list = async (query: string) =>
    (await json<{ messages: CaughtMessage[] }>(await fetch(`${httpUrl}/api/messages?${query}`))).messages;
  return {
    process: child,
    smtpPort,
    httpUrl,
    messages: (to) => list(to ? `to=${encodeURIComponent(to)}` : ""),
    async waitForMessages(to, count, timeoutMs = 10_000) {
      const found = await list(`to=${encodeURIComponent(to)}&min=${count}&waitMs=${timeoutMs}`);
      if (found.length < count) throw new Error(`expected ${count} messages to ${to}, got ${found.length}`);
      return found;
    },
    async parsed(id) {
      const raw = await fetch(`${httpUrl}/messages/${id}.eml`);
      return PostalMime.parse(Buffer.from(await raw.arrayBuffer()));
    },
    async faults(patch) {
      await json(
        await fetch(`${httpUrl}/_admin/faults`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(patch),
        }),
      );
    },
    async resetFaults() {
      await json(await fetch(`${httpUrl}/_admin/faults`, { method: "DELETE" }));
    },
    stop: () => child.stop("SIGTERM"),
  };
}

export function smtpConfigFor(port: number, overrides: Partial<SmtpConfig> = {}): SmtpConfig {
  return {
    host: "127.0.0.1",
    port,
    secure: false,
    user: "",
    pass: "",
    from: FROM,
    poolSize: 2,
    timeoutMs: 3000,
    ...overrides,
  };
}

export function storageConfigFor(overrides: Partial<StorageConfig> = {}): StorageConfig {
  return {
    endpoint: "127.0.0.1",
    port: 9000,
    useSSL: false,
    accessKey: "minioadmin",
    secretKey: "minioadmin",
    bucket: "recordings",
    region: "us-east-1",
    prefix: "recordings",
    requestTimeoutMs: 5000,
    egressUpload: true,
    egressEndpoint: "",
    egressPrefix: "",
    egressBackupBucket: "",
    egressBackupPrefix: "",
    events: "listen",
    publicUrl: "",
    ...overrides,
  };
}

/** A seeded stream-only recording's destinations, whole (stream keys in them). */
export const STREAM_URLS = [
  "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop",
  "rtmps://live.twitch.example:443/app/live_1234_zyxw",
];

/** What egress reported of them (keys redacted, as egress does). */
export const STREAMED: StreamResult[] = [
  {
    url: redactStreamUrl(STREAM_URLS[0] ?? ""),
    status: "finished",
    startedAt: "2026-01-15T10:00:03.000Z",
    endedAt: "2026-01-15T11:02:31.000Z",
    error: null,
    retries: 0,
  },
  {
    url: redactStreamUrl(STREAM_URLS[1] ?? ""),
    status: "failed",
    startedAt: "2026-01-15T10:00:03.000Z",
    endedAt: "2026-01-15T10:20:00.000Z",
    error: "connection closed by the server",
    retries: 2,
  },
];

export interface SeedOptions {
  tenant?: string;
  room?: string;
  notify?: Recording["notify"];
  /** Default saved; "streamed": a stream-only recording whose egress ended (stopped). */
  outcome?: "saved" | "streamed" | { failed: FailureCode };
  fileSize?: number | null;
  startedAt?: string;
  durationMs?: number;
}

/**
 * Creates a recording and drives it through the state machine the way the fleet does, on a
 * store whose clock is set so the dates in emails are known.
 */
export async function seedRecording(
  redis: Redis,
  prefix: string,
  options: SeedOptions = {},
): Promise<Recording> {
  const startedAt = Date.parse(options.startedAt ?? "2026-01-15T10:00:02.000Z");
  let clock = startedAt - 10_000;
  const store = new RecordingStore({ redis, prefix, retentionDays: 30, now: () => new Date(clock) });
  const created = await store.create({
    ...(options.tenant ? { tenant: options.tenant } : {}),
    room: options.room ?? "Weekly sync",
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: options.notify === undefined ? { email: "owner@example.com" } : options.notify,
    metadata: null,
    ...(options.outcome === "streamed"
      ? {
          outputs: [{ type: "stream" as const, urls: STREAMED.map((stream) => stream.url) }],
          streamUrls: STREAM_URLS,
        }
      : {}),
  });
  if (created.outcome !== "created") throw new Error(`could not create a recording: ${created.outcome}`);
  const id = created.recording.id;
  const move = async (to: Recording["status"], changes: Parameters<RecordingStore["transition"]>[2]) => {
    const result = await store.transition(id, to, changes);
    if (!result.ok) throw new Error(`could not move ${id} to ${to}: ${result.reason}`);
    return result.recording;
  };
  await move("starting", { reason: "picked up by a recorder" });
  clock = startedAt;
  await move("active", { reason: "egress EG_test is recording", egressId: "EG_test" });
  clock = startedAt + (options.durationMs ?? 3_749_000);
  const outcome = options.outcome ?? "saved";
  if (outcome === "streamed") {
    const report = await store.recordStreams(id, STREAMED, new Date(clock).toISOString(), "egress_updated");
    if (!report.ok) throw new Error(`could not record the streams of ${id}`);
    return move("stopped", { reason: "egress EG_test complete" });
  }
  if (outcome === "saved") {
    await move("stopped", { reason: "egress EG_test complete" });
    clock += 5000;
    return move("saved", {
      reason: "file landed in storage",
      file: {
        bucket: "recordings",
        key: `recordings/${id}.mp4`,
        size: options.fileSize === undefined ? 48_213_000 : options.fileSize,
        etag: null,
        contentType: "video/mp4",
      },
    });
  }
  return move("failed", {
    reason: `failed: ${outcome.failed}`,
    error: { code: outcome.failed, message: `test failure: ${outcome.failed}` },
  });
}

export interface MailerUnderTest {
  context: MailerContext;
  worker: Worker;
  producer: JobProducer;
  store: RecordingStore;
  redis: Redis;
  prefix: string;
  registry: Registry;
  /** Waits until the job finished (completed or failed) and returns it. */
  finished(jobId: string, timeoutMs?: number): Promise<Job>;
  close(): Promise<void>;
}

export interface MailerOptions {
  redisUrl: string;
  smtpPort: number;
  storage?: StorageConfig;
  downloadUrlTemplate?: string;
  locale?: "en" | "fr";
  timeZone?: string;
  retry?: Partial<RetryPolicy>;
  /** Default: the store's real clock. */
  now?: () => number;
  /** Default: no tenant has a callback. */
  tenants?: TenantRegistry;
  callbacks?: Partial<CallbacksConfig>;
}

export const NO_TENANTS: TenantRegistry = { tenants: [], get: () => undefined };

/** The mailer's worker in this process, wired like main.ts but with test-sized timings. */
export async function startMailer(options: MailerOptions): Promise<MailerUnderTest> {
  const prefix = uniquePrefix("mailer");
  const redisConfig = { url: options.redisUrl, prefix, tls: false, commandTimeoutMs: 2000 };
  const logger = createLogger("mailer-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const redis = createRedisConnection("client", redisConfig);
  const workerConnection = createRedisConnection("worker", redisConfig);
  const producerConnection = createRedisConnection("producer", redisConfig);
  // Fail-fast connections refuse commands until they are connected.
  await Promise.all([waitUntilReady(redis, 10_000), waitUntilReady(producerConnection, 10_000)]);
  const registry = createMetricsRegistry("mailer");
  const transport = createMailTransport(smtpConfigFor(options.smtpPort));
  const store = new RecordingStore({ redis, prefix, retentionDays: 30 });
  const shutdown = new AbortController();
  const context: MailerContext = {
    store,
    transport,
    links: createDownloadLinks(options.storage ?? storageConfigFor(), {
      linkExpirySeconds: 3600,
      downloadUrlTemplate: options.downloadUrlTemplate ?? "",
    }),
    markers: new SentMarkers(redis, prefix, 3600),
    metrics: createMailerMetrics(registry),
    logger,
    from: FROM,
    render: { defaultLanguage: options.locale ?? "en", timeZone: options.timeZone ?? "UTC" },
    retry: {
      windowMs: options.retry?.windowMs ?? 60_000,
      backoff: options.retry?.backoff ?? { initialMs: 50, maxMs: 200, jitter: 0 },
    },
    sendTimeoutMs: 10_000,
    shutdownSignal: shutdown.signal,
    now: options.now ?? Date.now,
    callbacks: {
      tenants: options.tenants ?? NO_TENANTS,
      deliveries: new DeliveryLog(redis, prefix, 3_600_000),
      config: {
        allowPrivateTargets: true,
        timeoutMs: 2000,
        retryDelayMs: 50,
        retryWindowMs: 60_000,
        ...options.callbacks,
      },
    },
  };
  const worker = createMailerWorker(context, {
    connection: workerConnection,
    prefix,
    concurrency: 2,
    logger,
  });
  await worker.waitUntilReady();
  const producer = new JobProducer(producerConnection, prefix);
  const queue = producer.queue("notifications");
  return {
    context,
    worker,
    producer,
    store,
    redis,
    prefix,
    registry,
    async finished(jobId, timeoutMs = 10_000) {
      const deadline = Date.now() + scaled(timeoutMs);
      for (;;) {
        // The state first, then the job: a job read before it finished has no result yet.
        const state = await queue.getJobState(jobId);
        const job = state === "completed" || state === "failed" ? await queue.getJob(jobId) : undefined;
        if (job) return job;
        if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await closeWorker(worker, 5000, () => shutdown.abort(), logger);
      transport.close();
      await producer.close();
      await Promise.all([redis.quit(), workerConnection.quit(), producerConnection.quit()]);
    },
  };
}

/** The value of one series of a metric: a counter, or e.g. `<name>_count` of a histogram. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  series = name,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find(
    (value) =>
      ((value as { metricName?: string }).metricName ?? name) === series &&
      Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return match?.value ?? 0;
}
