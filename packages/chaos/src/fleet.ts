import { closeSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { QUEUE, type QueueName } from "@recfleet/queues";
import { RecordingStore } from "@recfleet/recordings";
import { startTestFleet, type TestFleet } from "@recfleet/sandbox/harness";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { ApiClient } from "./api-client.ts";
import type { Profile } from "./profile.ts";
import { type SsrfTargets, startSsrfTargets } from "./ssrf.ts";

/** The sandbox's REDIS_PREFIX, and the domain of its SMTP_FROM (the Message-IDs' right side). */
export const REDIS_PREFIX = "recfleet";
export const MAIL_DOMAIN = "sandbox.localhost";

export interface ProcessExit {
  name: string;
  code: number | string;
  tail: string[];
}

/**
 * The sandbox fleet (startTestFleet) plus what fault injection needs on top of it: the admin
 * endpoints of the three emulators, a fail-fast observer connection to Redis (recordings and
 * queues), the apps' log files and the processes' fate.
 */
export interface ChaosFleet {
  readonly test: TestFleet;
  readonly api: ApiClient;
  /** An admin key's client: what the checks read recordings with, whichever tenant owns them. */
  readonly observer: ApiClient;
  /** Reads recordings straight from Redis (the observer; never the apps' own connections). */
  readonly store: RecordingStore;
  readonly queues: Record<QueueName, Queue>;
  readonly recorders: string[];
  /** Processes that exited without being asked to (the supervisor reports the first one). */
  readonly unexpectedExits: ProcessExit[];
  readonly logsDir: string;
  /** Tenants whose callbacks aim at loopback, metadata and private addresses, and the canary. */
  readonly ssrf: SsrfTargets;
  livekit<T>(path: string, body?: unknown): Promise<T>;
  s3<T>(method: string, path: string, body?: unknown): Promise<T>;
  smtp<T>(method: string, path: string, body?: unknown): Promise<T>;
  /**
   * SIGKILL one process and start it again (waits until it is ready). Restarts run one at a
   * time: the supervisor's bookkeeping is not safe for two at once.
   */
  restart(name: string): Promise<void>;
  /** SIGSTOP a process: it holds its connections and answers nothing, as a hung process does. */
  freeze(name: string): void;
  /** The pid of the Redis server, from its own INFO. */
  redisPid(): Promise<number>;
  /** The pid written on the last line of a process' log. */
  pidOf(name: string): number | undefined;
  /** The current size of a process' log file, to read what comes after it. */
  logOffset(name: string): number;
  /** The JSON lines a process logged after `offset`. */
  logLinesSince(name: string, offset: number): Record<string, unknown>[];
  /** Every app answers its readiness probe (waits up to `timeoutMs`); names of those that do not. */
  unready(timeoutMs: number): Promise<string[]>;
  stop(options?: { keepState: boolean }): Promise<void>;
}

async function adminCall<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    signal: AbortSignal.timeout(30_000),
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

function observerRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 5000,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  // Redis is restarted on purpose: the observer reconnects by itself and says nothing.
  redis.on("error", () => {});
  return redis;
}

function readFrom(file: string, offset: number): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = statSync(file).size;
    if (size <= offset) return "";
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function parseLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut in the middle of a write: the next read sees it whole
    }
  }
  return lines;
}

export async function startChaosFleet(profile: Profile): Promise<ChaosFleet> {
  const ssrf = await startSsrfTargets();
  const test = await startTestFleet({
    replicas: { recorder: profile.recorderReplicas },
    // Production's rule, not the sandbox's: callbacks may not reach private addresses.
    env: { ...profile.fleetEnv, TENANTS_FILE: ssrf.tenantsFile, CALLBACKS_ALLOW_PRIVATE_TARGETS: "false" },
  });
  const unexpectedExits: ProcessExit[] = [];
  void test.supervisor.failed.then((exit) => unexpectedExits.push(exit));
  const { info } = test;
  const redis = observerRedis(info.redisUrl);
  // BullMQ's Queue wants a connection that waits for Redis rather than failing a command.
  const queueRedis = new Redis(info.redisUrl, { maxRetriesPerRequest: null });
  queueRedis.on("error", () => {});
  const queues = {
    [QUEUE.control]: new Queue(QUEUE.control, { connection: queueRedis, prefix: REDIS_PREFIX }),
    [QUEUE.notifications]: new Queue(QUEUE.notifications, { connection: queueRedis, prefix: REDIS_PREFIX }),
  } as Record<QueueName, Queue>;
  for (const queue of Object.values(queues)) queue.on("error", () => {});
  const recorders = Array.from({ length: profile.recorderReplicas }, (_, i) =>
    i === 0 ? "recorder" : `recorder-${i + 1}`,
  );
  const logFile = (name: string) => join(info.logs, `${name}.log`);
  const s3Url = `http://${info.s3.endpoint}:${info.s3.port}`;
  let restarts: Promise<void> = Promise.resolve();

  const fleet: ChaosFleet = {
    test,
    api: new ApiClient(info.apiUrl, info.apiKey),
    observer: new ApiClient(info.apiUrl, ssrf.observerKey),
    store: new RecordingStore({ redis, prefix: REDIS_PREFIX, retentionDays: 30 }),
    queues,
    recorders,
    unexpectedExits,
    logsDir: info.logs,
    ssrf,
    livekit: (path, body) => test.livekitAdmin(path, body),
    s3: (method, path, body) => adminCall(`${s3Url}/_admin${path}`, method, body),
    smtp: (method, path, body) => adminCall(`${info.mailUrl}_admin${path}`, method, body),
    restart: (name) => {
      const next = restarts.then(async () => {
        await test.supervisor.restart(name);
      });
      restarts = next.catch(() => undefined);
      return next;
    },
    freeze: (name) => {
      const pid = fleet.pidOf(name);
      if (pid === undefined) throw new Error(`no pid known for ${name}`);
      process.kill(pid, "SIGSTOP");
    },
    redisPid: async () => {
      const server = await redis.info("server");
      const pid = Number(/^process_id:(\d+)/m.exec(server)?.[1]);
      if (!Number.isInteger(pid) || pid <= 0) throw new Error("redis INFO has no process_id");
      return pid;
    },
    pidOf: (name) => {
      const lines = parseLines(readFrom(logFile(name), Math.max(0, fleet.logOffset(name) - 65_536)));
      for (let i = lines.length - 1; i >= 0; i -= 1) {
        const pid = lines[i]?.pid;
        if (typeof pid === "number") return pid;
      }
      return undefined;
    },
    logOffset: (name) => {
      try {
        return statSync(logFile(name)).size;
      } catch {
        return 0;
      }
    },
    logLinesSince: (name, offset) => parseLines(readFrom(logFile(name), offset)),
    unready: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let pending = Object.entries(info.health);
      while (pending.length > 0) {
        const answers = await Promise.all(
          pending.map(async ([name, url]) => {
            try {
              const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
              await response.body?.cancel();
              return response.ok ? undefined : name;
            } catch {
              return name;
            }
          }),
        );
        pending = pending.filter(([name]) => answers.includes(name));
        if (pending.length === 0 || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return pending.map(([name]) => name);
    },
    stop: async (options) => {
      await Promise.all(Object.values(queues).map((queue) => queue.close().catch(() => undefined)));
      queueRedis.disconnect();
      redis.disconnect();
      await test.stop();
      await ssrf.close();
      if (!options?.keepState) rmSync(dirname(info.logs), { recursive: true, force: true });
    },
  };
  return fleet;
}
