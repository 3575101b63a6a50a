import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApiConfig,
  type EncodingConfig,
  loadAutoRecordRules,
  loadConfig,
  loadProfileCatalog,
  loadTenants,
  type RedisConfig,
} from "@recfleet/config";
import {
  createRedisConnection,
  JobProducer,
  QUEUE_NAMES,
  type QueueName,
  waitUntilReady,
} from "@recfleet/queues";
import { RecordingStore } from "@recfleet/recordings";
import { createLogger, createMetricsRegistry } from "@recfleet/runtime";
import { uniquePrefix } from "@recfleet/testing";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { AccessToken, WebhookReceiver } from "livekit-server-sdk";
import { expect } from "vitest";
import { type ApiTimeouts, createApp } from "../src/app.ts";
import { listen } from "../src/http/server.ts";

export const API_KEY = "test-key-0123456789abcdef";
export const ROTATED_KEY = "rotated-key-fedcba9876543210";
export const LIVEKIT_KEY = "APItestkey";
export const TEST_PUBLIC_URL = "https://recordings.test";
export const LIVEKIT_SECRET = "livekit-test-secret-0123456789abcdef";

/** The ENCODING_* defaults, as the schema gives them. */
const DEFAULT_ENCODING: EncodingConfig = loadConfig(["encoding"], {}).encoding;

export interface TestApiOptions {
  redisUrl: string;
  /** Key prefix; a fresh one by default. */
  prefix?: string;
  /** Where the producer connects; another URL than redisUrl simulates a dead queue Redis. */
  producerRedisUrl?: string;
  apiKeys?: string[];
  /** The TENANTS_FILE's content (written to a temporary JSON file). */
  tenantsFile?: { tenants: Record<string, unknown> };
  dashboard?: { user: string; password: string; readOnly?: boolean };
  publicUrl?: string;
  /** API_TRUST_PROXY (to tell clients apart by X-Forwarded-For in one test process). */
  trustProxy?: string;
  authFailureLimit?: number;
  /** RECORDINGS_EXPIRE_DAYS. */
  expireDays?: number;
  /** ENCODING_*; the defaults otherwise. */
  encoding?: Partial<EncodingConfig>;
  /** STREAMS_ALLOW_PRIVATE_TARGETS; off (as in production) unless a test turns it on. */
  allowPrivateStreams?: boolean;
  bodyLimit?: number;
  timeouts?: Partial<ApiTimeouts>;
  /** AUTO_RECORD_FILE. */
  autoRecordFile?: string;
  /** STORAGE_* (the watch page's presigned links); an unreachable storage by default. */
  storage?: Record<string, string>;
}

export interface TestApi {
  url: string;
  /** API_PUBLIC_URL: the base of the links it answers with. */
  publicUrl: string;
  prefix: string;
  store: RecordingStore;
  producer: JobProducer;
  queues: Record<QueueName, Queue>;
  redis: Redis;
  /** Every log line the app wrote, as JSON text. */
  logs: string[];
  /** fetch against the API with API_KEY, or `key` (unless headers say otherwise). */
  call(path: string, init?: RequestInit & { json?: unknown; key?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** The real app with real Redis, listening on 127.0.0.1 with a fresh key prefix. */
export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  const prefix = options.prefix ?? uniquePrefix("api");
  const redisConfig = (url: string): RedisConfig => ({ url, prefix, tls: false, commandTimeoutMs: 1000 });
  const api: ApiConfig = {
    port: 0,
    host: "127.0.0.1",
    apiKeys: options.apiKeys ?? [API_KEY, ROTATED_KEY],
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    dashboardUser: options.dashboard?.user ?? "",
    dashboardPassword: options.dashboard?.password ?? "",
    dashboardReadOnly: options.dashboard?.readOnly ?? true,
    publicUrl: options.publicUrl ?? TEST_PUBLIC_URL,
    trustProxy: options.trustProxy ?? "",
    authFailureLimit: options.authFailureLimit ?? 20,
    authFailureWindowSeconds: 300,
    shutdownGraceMs: 1000,
  };
  let tenantsFile = "";
  if (options.tenantsFile) {
    tenantsFile = join(mkdtempSync(join(tmpdir(), "recfleet-tenants-")), "tenants.json");
    writeFileSync(tenantsFile, JSON.stringify(options.tenantsFile));
  }
  const tenants = loadTenants({ apiKeys: api.apiKeys, file: tenantsFile });
  const logs: string[] = [];
  const logger = createLogger("api", {
    level: "debug",
    destination: { write: (line: string) => logs.push(line) },
  });
  const redis = createRedisConnection("client", redisConfig(options.redisUrl), logger);
  const producerConnection = createRedisConnection(
    "producer",
    redisConfig(options.producerRedisUrl ?? options.redisUrl),
    logger,
  );
  await waitUntilReady(redis, 5000);
  const producer = new JobProducer(producerConnection, prefix, 300);
  const queues = Object.fromEntries(QUEUE_NAMES.map((name) => [name, producer.queue(name)])) as Record<
    QueueName,
    Queue
  >;
  const store = new RecordingStore({ redis, prefix, retentionDays: 30 });
  const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });
  const app = createApp({
    config: {
      api,
      redis: redisConfig(options.redisUrl),
      recordings: { retentionDays: 30, expireDays: options.expireDays ?? 0 },
      encoding: { ...DEFAULT_ENCODING, ...options.encoding },
      streams: { allowPrivateTargets: options.allowPrivateStreams ?? false },
      // Nothing listens there unless a test brings its storage: a watch page then answers 503.
      storage: loadConfig(["storage"], {
        STORAGE_ENDPOINT: "127.0.0.1",
        STORAGE_PORT: "1",
        STORAGE_ACCESS_KEY: "api-test-reader",
        STORAGE_SECRET_KEY: "api-test-reader-secret",
        STORAGE_REQUEST_TIMEOUT_MS: "1000",
        ...options.storage,
      }).storage,
    },
    logger,
    tenants,
    autoRecord: loadAutoRecordRules({ file: options.autoRecordFile ?? "", profiles, tenants }),
    store,
    producer,
    profiles,
    queues,
    webhookReceiver: new WebhookReceiver(LIVEKIT_KEY, LIVEKIT_SECRET),
    registry: createMetricsRegistry("api"),
    redis,
    readiness: { redis: () => redis.ping(), "redis-producer": () => producerConnection.ping() },
    timeouts: { redisWorkMs: 1500, readinessMs: 500, metricsMs: 500, ...options.timeouts },
  });
  const server = await listen(app, { host: "127.0.0.1", port: 0 }, logger);
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    publicUrl: api.publicUrl,
    prefix,
    store,
    producer,
    queues,
    redis,
    logs,
    call: (path, init = {}) => {
      const { json, headers, key, ...rest } = init;
      return fetch(`${url}${path}`, {
        ...rest,
        headers: {
          authorization: `Bearer ${key ?? API_KEY}`,
          ...(json !== undefined ? { "content-type": "application/json" } : {}),
          ...(headers as Record<string, string> | undefined),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
    close: async () => {
      await server.close(500);
      await producer.close();
      producerConnection.disconnect();
      redis.disconnect();
    },
  };
}

/**
 * A LiveKit webhook as LiveKit sends it: JSON body, raw JWT with the body's sha256. A string is
 * signed as it is (to send a body that is not JSON).
 */
export async function signedWebhook(
  body: unknown,
  credentials: { key: string; secret: string } = { key: LIVEKIT_KEY, secret: LIVEKIT_SECRET },
): Promise<{ body: string; headers: Record<string, string> }> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const token = new AccessToken(credentials.key, credentials.secret, { ttl: "5m" });
  token.sha256 = createHash("sha256").update(text).digest("base64");
  return {
    body: text,
    headers: { "content-type": "application/webhook+json", authorization: await token.toJwt() },
  };
}

/** An egress event body in LiveKit's protobuf JSON. */
export function egressEvent(
  event: string,
  egressId: string,
  status: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    event,
    id: `EV_${Math.random().toString(36).slice(2, 12)}`,
    createdAt: String(Math.floor(Date.now() / 1000)),
    egressInfo: { egressId, roomName: "room", status, ...extra },
  };
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}

/** The value of the one series of `name` carrying these labels (and app="api"); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = { ...labels, app: "api" };
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const pairs = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(wanted).every(([key, value]) => pairs[key] === value)) return Number(match[3]);
  }
  return undefined;
}
