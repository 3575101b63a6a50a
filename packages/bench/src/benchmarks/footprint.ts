import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import {
  appMemory,
  appRss,
  FLEET_PREFIX,
  redisUsedMemory,
  startBenchFleet,
  unfinishedCount,
} from "../lib/fleet.ts";
import { mib, ms } from "../lib/format.ts";
import { bareNodeRss } from "../lib/node-baseline.ts";
import { finishRecordings, paced, postRecording, waitUntil } from "../lib/recordings.ts";
import { keyGroups } from "../lib/redis-keys.ts";
import type { Cell } from "../lib/table.ts";

const IDLE_TARGET_BYTES = 120 * 1000 * 1000;

/** Samples every app's RSS until stopped, keeping each one's highest. */
function watchRss(read: () => Promise<Record<string, number>>, everyMs: number) {
  const peak: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [name, bytes] of Object.entries(await read())) peak[name] = Math.max(peak[name] ?? 0, bytes);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}

async function redisSnapshot(redis: Redis) {
  return { usedMemory: await redisUsedMemory(redis), keys: await redis.dbsize() };
}

/** Idle memory of every app of a fleet started with these Node options. */
async function idleMemoryWith(nodeOptions: string, idleSeconds: number) {
  const bench = await startBenchFleet({ env: { NODE_OPTIONS: nodeOptions } });
  try {
    await sleep(idleSeconds * 1000);
    return await appMemory(bench.fleet);
  } finally {
    await bench.stop();
  }
}

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const count = ctx.quick ? 300 : 1000;
  const idleSeconds = ctx.quick ? 5 : 15;
  // V8 reserves its young generation (semi-spaces) by default well beyond what these apps keep:
  // the same fleet with small semi-spaces shows how much of the idle RSS that reservation is.
  const SMALL_YOUNG_GENERATION = "--max-semi-space-size=1";
  ctx.log(`idle fleet with NODE_OPTIONS=${SMALL_YOUNG_GENERATION}`);
  const smallYoung = await idleMemoryWith(SMALL_YOUNG_GENERATION, idleSeconds);
  ctx.log("starting the fleet");
  const bench = await startBenchFleet();
  const { info } = bench.fleet;
  try {
    ctx.log(`idle for ${idleSeconds} s`);
    await sleep(idleSeconds * 1000);
    const idleMemory = await appMemory(bench.fleet);
    const idle = Object.fromEntries(Object.entries(idleMemory).map(([name, memory]) => [name, memory.rss]));
    const bare = bareNodeRss();
    const memoryBefore = await redisUsedMemory(bench.redis);
    const keysBefore = await bench.redis.dbsize();

    ctx.log(`driving ${count} recordings to notified (created at 100/s, stopped once active)`);
    const runId = randomBytes(3).toString("hex");
    const watcher = watchRss(() => appRss(bench.fleet), 250);
    const started = performance.now();
    const created = await paced(count, 100, (i) =>
      postRecording(info, {
        room: `footprint-${runId}-${i}`,
        kind: i % 10 === 0 ? "audio" : "video",
        notify: { email: `owner-${i}@bench.example` },
      }),
    );
    const ids = created.results.map((posted) => posted.id).filter((id): id is string => id !== null);
    const cleanup = await finishRecordings(bench, ids, { timeoutMs: 240_000 });
    const drivenMs = performance.now() - started;
    const peak = await watcher.stop();
    const counts = await bench.store.countByStatus();
    // Let the last jobs' completion and the event streams settle before reading Redis.
    await sleep(2000);
    const after = await appRss(bench.fleet);
    // The reconcile job's removeOnComplete {count: 20} trims the whole control queue's completed
    // set whenever a reconcile completes (BullMQ trims per queue, not per job name), so completed
    // start and stop jobs stay at most one reconcile interval, not KEEP_COMPLETED's 7 days. The
    // steady state is after that trim: wait for it (the interval is 30 s), then measure.
    ctx.log("waiting for the reconciler to trim the control queue (up to 45 s)");
    const trimmedAfterMs = await waitUntil(
      "the reconciler to trim the control queue",
      async () => (await bench.redis.zcard(`${FLEET_PREFIX}:control:completed`)) <= 20,
      45_000,
      1000,
    ).catch(() => Number.NaN);
    const steady = await redisSnapshot(bench.redis);
    const groups = await keyGroups(bench.redis);
    const perThousand = ((steady.usedMemory - memoryBefore) / count) * 1000;
    const keysPerRecording = (steady.keys - keysBefore) / count;
    // What the two control jobs would add if kept as KEEP_COMPLETED intends: the measured size
    // of a completed control job hash (the few the trim leaves), twice per recording.
    const controlJob = groups.find((group) => /:control:(stop|start)-<uuid>$/.test(group.pattern));
    const controlJobBytes = controlJob ? controlJob.bytes / controlJob.keys : Number.NaN;
    const keptPerThousand = perThousand + 2 * controlJobBytes * 1000;
    const names = Object.keys(idle);
    const rows: Cell[][] = names.map((name) => [
      name,
      mib(idle[name] ?? Number.NaN),
      mib(idleMemory[name]?.heapUsed ?? Number.NaN),
      mib(idleMemory[name]?.external ?? Number.NaN),
      mib(smallYoung[name]?.rss ?? Number.NaN),
      mib(peak[name] ?? Number.NaN),
      mib(after[name] ?? Number.NaN),
    ]);
    rows.push(
      ["(bare Node, a .js script)", mib(bare.javascript), "", "", "", "", ""],
      ["(bare Node, a .ts script: type stripping)", mib(bare.typescript), "", "", "", "", ""],
    );
    const overTarget = names.filter((name) => (idle[name] ?? 0) > IDLE_TARGET_BYTES);
    const largestIdle = Math.max(...names.map((name) => idle[name] ?? 0));

    return {
      tables: [
        {
          title: `Footprint: resident memory (process_resident_memory_bytes) of each app; load = ${count} recordings driven to notified`,
          columns: [
            "app",
            `idle RSS (after ${idleSeconds} s)`,
            "idle heap used",
            "idle external",
            `idle RSS with ${SMALL_YOUNG_GENERATION}`,
            "peak RSS under load",
            "RSS after the load",
          ],
          rows,
        },
        {
          title: `Footprint: Redis used_memory growth, ${counts.notified} of ${count} recordings notified (driven in ${ms(drivenMs)}; used_memory before: ${mib(memoryBefore)})`,
          columns: ["state", "per 1,000 finished recordings", "per recording", "keys per recording"],
          rows: [
            [
              "measured, after the reconciler's trim (the steady state)",
              mib(perThousand),
              `${(perThousand / 1000 / 1024).toFixed(1)} KiB`,
              keysPerRecording.toFixed(2),
            ],
            [
              `computed: + completed start and stop jobs kept 7 days (2 × ${controlJobBytes.toFixed(0)} B)`,
              mib(keptPerThousand),
              `${(keptPerThousand / 1000 / 1024).toFixed(1)} KiB`,
              (keysPerRecording + 2).toFixed(2),
            ],
          ],
        },
        {
          title: "Footprint: Redis keys after the load, by shape (MEMORY USAGE, largest first)",
          columns: ["key", "keys", "bytes", "per recording"],
          rows: groups
            .slice(0, 12)
            .map((group) => [
              `\`${group.pattern}\``,
              group.keys,
              `${(group.bytes / 1024).toFixed(1)} KiB`,
              `${(group.bytes / count).toFixed(0)} B`,
            ]),
        },
      ],
      targets: [
        {
          target: "≤ 120 MB RSS idle per app",
          measured:
            overTarget.length === 0
              ? `largest ${mib(largestIdle)} (${(largestIdle / 1e6).toFixed(0)} MB)`
              : `over: ${overTarget.map((name) => `${name} ${mib(idle[name] ?? 0)}`).join(", ")}`,
          met: overTarget.length === 0,
        },
      ],
      data: {
        count,
        idleSeconds,
        rssIdle: idle,
        memoryIdle: idleMemory,
        memoryIdleSmallYoungGeneration: { nodeOptions: SMALL_YOUNG_GENERATION, apps: smallYoung },
        bareNode: bare,
        rssPeak: peak,
        rssAfter: after,
        redis: {
          usedMemoryBefore: memoryBefore,
          keysBefore,
          steady,
          trimmedAfterMs,
          perThousandRecordings: perThousand,
          keysPerRecording,
          controlJobBytes,
          perThousandWithControlJobsKept: keptPerThousand,
        },
        keyGroups: groups,
        cleanup,
        finalCounts: counts,
        unfinished: await unfinishedCount(bench.store),
      },
      notes: [
        "RSS is what each app reports itself on /metrics (prom-client's process_resident_memory_bytes), sampled every 250 ms during the load. Apps run from TypeScript sources with Node's type stripping (as the sandbox runs them); a built image would load the same modules.",
        "Redis growth is used_memory after minus before, with every recording final and the retention as configured: records kept RECORDINGS_RETENTION_DAYS (30 days), completed jobs meant to be kept 7 days / 10,000 per queue (KEEP_COMPLETED), so nothing has expired by age yet: the steady cost of a recording during its retention. It includes the record and its timeline, its indexes, the egress-id lookup, the mailer's sent marker, the completed jobs and the BullMQ event streams' share (capped streams: their share per recording falls as volume grows).",
        "Completed start and stop jobs do not stay 7 days: the reconcile job (removeOnComplete {count: 20}) trims the whole control queue's completed set each time it completes, as BullMQ trims per queue, not per job name. The measured row is that steady state; the computed row adds back the two control jobs per recording that KEEP_COMPLETED means to keep.",
        "packages/infra-tests/scripts/measure-redis-memory.ts measures the same cost through RecordingStore directly (no webhooks, fewer timeline entries) at about 8.6 MiB per 1,000.",
      ],
    };
  } finally {
    await bench.stop();
  }
}

export const footprint: Benchmark = {
  name: "footprint",
  title: "6. Footprint: RSS of each app, Redis memory per 1,000 finished recordings",
  run,
};
