import { rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import { redisOptionsFor, waitUntilReady } from "@recfleet/queues";
import { type RecordingStatus, RecordingStore } from "@recfleet/recordings";
import { startTestFleet, type TestFleet, type TestFleetOptions } from "@recfleet/sandbox/harness";
import { Redis } from "ioredis";
import { appCpuSeconds } from "./cpu.ts";

/**
 * The bench chooses the fleet's Redis prefix and LiveKit credentials itself (env for the apps,
 * flags for the egress emulator, given after the sandbox's own so they win) instead of relying
 * on the sandbox's private defaults: it needs them to read the store and to call egress directly.
 */
export const FLEET_PREFIX = "bench";
export const LIVEKIT_KEY = "bench-livekit-key";
export const LIVEKIT_SECRET = "bench-livekit-secret-0123456789abcdef";

export interface BenchFleetOptions {
  replicas?: TestFleetOptions["replicas"];
  /** Extra egress emulator flags (fault knobs such as --start-latency-ms). */
  egressArgs?: string[];
  env?: Record<string, string>;
}

export interface BenchFleet {
  fleet: TestFleet;
  /** A fail-fast connection to the fleet's Redis, for the store and INFO. */
  redis: Redis;
  store: RecordingStore;
  stop(): Promise<void>;
}

/**
 * The sandbox fleet (Redis, emulators and apps as real child processes), logging at warn: the
 * apps' info lines would be piped to and parsed by this process, which also runs the load.
 */
export async function startBenchFleet(options: BenchFleetOptions = {}): Promise<BenchFleet> {
  const fleet = await startTestFleet({
    // Rooms open by themselves: opening hundreds of rooms is setup, not what is measured.
    autoRoom: true,
    ...(options.replicas ? { replicas: options.replicas } : {}),
    emulatorArgs: {
      // The secret reaches the emulator with the env below, like every other process.
      livekit: [`--api-key=${LIVEKIT_KEY}`, ...(options.egressArgs ?? [])],
    },
    env: {
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      // The production defaults of the timers the sandbox shortens for quick healing: a
      // reconciler listing every egress every 5 s would be part of what is measured.
      RECORDER_RECONCILE_INTERVAL_MS: "30000",
      RECORDER_FILE_CHECK_AFTER_MS: "120000",
      LISTENER_RESYNC_INTERVAL_MS: "300000",
      REDIS_PREFIX: FLEET_PREFIX,
      LIVEKIT_API_KEY: LIVEKIT_KEY,
      LIVEKIT_API_SECRET: LIVEKIT_SECRET,
      ...options.env,
    },
  });
  const redis = new Redis(
    fleet.info.redisUrl,
    redisOptionsFor("client", {
      url: fleet.info.redisUrl,
      prefix: FLEET_PREFIX,
      tls: false,
      commandTimeoutMs: 10_000,
    }),
  );
  redis.on("error", () => {});
  await waitUntilReady(redis, 10_000);
  const store = new RecordingStore({ redis, prefix: FLEET_PREFIX, retentionDays: 30 });
  return {
    fleet,
    redis,
    store,
    stop: async () => {
      redis.disconnect();
      await fleet.stop();
      // The harness leaves its temporary state directory behind; it is ours to remove.
      const root = dirname(fleet.info.logs);
      if (basename(root).startsWith("recfleet-e2e-")) rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface EgressStart {
  room: string;
  /** Arrival at the emulator, epoch milliseconds (the emulator's clock: this machine's). */
  at: number;
  status: number | null;
  egressId: string | null;
}

interface RecordedRequest {
  at: string;
  method: string | null;
  status: number | null;
  egressId: string | null;
  body: unknown;
}

/** Every StartRoomCompositeEgress the egress emulator received, from its request log. */
export async function egressStarts(fleet: TestFleet): Promise<EgressStart[]> {
  const { requests } = await fleet.livekitAdmin<{ requests: RecordedRequest[] }>("/requests");
  return requests
    .filter((request) => request.method === "StartRoomCompositeEgress")
    .map((request) => ({
      room: String((request.body as { roomName?: unknown } | null)?.roomName ?? ""),
      at: Date.parse(request.at),
      status: request.status,
      egressId: request.egressId,
    }));
}

function gauge(text: string, name: string): number {
  const value = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`, "m").exec(text)?.[1];
  return value === undefined ? Number.NaN : Number(value);
}

export interface AppMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** Memory of every app process (api, recorder, recorder-2 …) as each reports it on /metrics. */
export async function appMemory(fleet: TestFleet): Promise<Record<string, AppMemory>> {
  const entries = await Promise.all(
    Object.keys(fleet.info.health).map(async (name) => {
      const url = metricsUrl(fleet, name);
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      const memory: AppMemory = {
        rss: gauge(text, "process_resident_memory_bytes"),
        heapUsed: gauge(text, "nodejs_heap_size_used_bytes"),
        heapTotal: gauge(text, "nodejs_heap_size_total_bytes"),
        external: gauge(text, "nodejs_external_memory_bytes"),
      };
      if (Number.isNaN(memory.rss)) throw new Error(`${url} has no process_resident_memory_bytes`);
      return [name, memory] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** process_resident_memory_bytes of every app process, by name. */
export async function appRss(fleet: TestFleet): Promise<Record<string, number>> {
  const memory = await appMemory(fleet);
  return Object.fromEntries(Object.entries(memory).map(([name, value]) => [name, value.rss]));
}

export async function redisUsedMemory(redis: Redis): Promise<number> {
  const value = /^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1];
  if (value === undefined) throw new Error("INFO memory has no used_memory");
  return Number(value);
}

/** Commands Redis has processed since it started (INFO stats total_commands_processed). */
export async function redisCommands(redis: Redis): Promise<number> {
  return Number(/^total_commands_processed:(\d+)/m.exec(await redis.info("stats"))?.[1] ?? Number.NaN);
}

/** CPU time Redis has used (user + system), in seconds. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const read = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return read("used_cpu_user") + read("used_cpu_sys");
}

/** The metrics URL of an app process of the fleet (api, recorder, recorder-2 …). */
export function metricsUrl(fleet: TestFleet, name: string): string {
  const ready = fleet.info.health[name];
  if (!ready) throw new Error(`the fleet has no app process named ${name}`);
  return ready.replace(/\/readyz$/, "/metrics");
}

const UNFINISHED: readonly RecordingStatus[] = [
  "queued",
  "starting",
  "active",
  "stopping",
  "stopped",
  "saved",
];

/** How many recordings are not final yet (anything but notified, failed, cancelled). */
export async function unfinishedCount(store: RecordingStore): Promise<number> {
  const counts = await store.countByStatus();
  return UNFINISHED.reduce((sum, status) => sum + counts[status], 0);
}

/** CPU seconds used so far by each app process of the fleet and by Redis. */
export async function fleetCpuSeconds(bench: BenchFleet): Promise<Record<string, number>> {
  const apps = await Promise.all(
    Object.keys(bench.fleet.info.health).map(
      async (name) => [name, await appCpuSeconds(metricsUrl(bench.fleet, name))] as const,
    ),
  );
  return { ...Object.fromEntries(apps), redis: await redisCpuSeconds(bench.redis) };
}

/** CPU seconds each process used between two snapshots. */
export function cpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]),
  );
}
