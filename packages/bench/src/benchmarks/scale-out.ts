import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { QUEUE } from "@recfleet/queues";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { type CpuUse, startCpuSampler } from "../lib/cpu.ts";
import { cpuDelta, egressStarts, FLEET_PREFIX, fleetCpuSeconds, startBenchFleet } from "../lib/fleet.ts";
import { coresBusy, ms, perSecond } from "../lib/format.ts";
import { epochNow, mapLimit, postRecording, waitUntil } from "../lib/recordings.ts";
import { percentile } from "../lib/stats.ts";
import type { Cell } from "../lib/table.ts";

const START_LATENCY_MS = 200;
const CONCURRENCY = 10; // RECORDER_CONCURRENCY's default, left as is

interface Point {
  recorders: number;
  recordings: number;
  /** What the recorders could do if CPU were free: recorders × concurrency ÷ Start latency. */
  ceilingPerSecond: number;
  /** Starts/s between the 10th and the 90th percentile arrival (the steady part). */
  steadyPerSecond: number;
  /** Starts/s from resume to the last Start. */
  overallPerSecond: number;
  firstStartAfterResumeMs: number;
  busyCores: CpuUse;
  cpuMsPerStart: Record<string, number>;
  /** CPU of every process of the benchmark (fleet, emulators, Redis, bench) per Start. */
  allCpuMsPerStart: number;
}

async function measure(ctx: BenchContext, recorders: number, recordings: number): Promise<Point> {
  ctx.log(`${recorders} recorder(s): starting the fleet`);
  const bench = await startBenchFleet({
    replicas: { recorder: recorders },
    egressArgs: ["--start-latency-ms", String(START_LATENCY_MS)],
  });
  const connection = new Redis(bench.fleet.info.redisUrl, { maxRetriesPerRequest: null });
  const control = new Queue(QUEUE.control, { connection, prefix: FLEET_PREFIX });
  try {
    const runId = randomBytes(3).toString("hex");
    // Fill the queue while it is paused, then let the recorders at it: the measure is then the
    // recorders' pace, not the pace at which the API is fed.
    await control.pause();
    ctx.log(`${recorders} recorder(s): queueing ${recordings} recordings (queue paused)`);
    const posted = await mapLimit(
      Array.from({ length: recordings }, (_, i) => i),
      20,
      (i) => postRecording(bench.fleet.info, { room: `scale-${runId}-${i}` }),
    );
    const refused = posted.filter((answer) => answer.status !== 202).length;
    if (refused > 0) throw new Error(`${refused} of ${recordings} recordings were not accepted`);
    const cpuBefore = await fleetCpuSeconds(bench);
    const machineCpu = startCpuSampler(availableParallelism());
    const resumedAt = epochNow();
    await control.resume();
    await waitUntil(
      "egress to receive every Start",
      async () => (await egressStarts(bench.fleet)).length >= recordings,
      120_000,
      200,
    );
    const busyCores = machineCpu.stop();
    const windowSeconds = (epochNow() - resumedAt) / 1000;
    const cpuUsed = cpuDelta(cpuBefore, await fleetCpuSeconds(bench));
    const arrivals = (await egressStarts(bench.fleet)).map((start) => start.at).sort((a, b) => a - b);
    const p10 = percentile(arrivals, 10);
    const p90 = percentile(arrivals, 90);
    const last = arrivals[arrivals.length - 1] ?? Number.NaN;
    const first = arrivals[0] ?? Number.NaN;
    const recorderCpu = Object.entries(cpuUsed)
      .filter(([name]) => name.startsWith("recorder"))
      .reduce((sum, [, seconds]) => sum + seconds, 0);
    return {
      recorders,
      recordings,
      ceilingPerSecond: (recorders * CONCURRENCY * 1000) / START_LATENCY_MS,
      steadyPerSecond: (0.8 * (arrivals.length - 1)) / ((p90 - p10) / 1000),
      overallPerSecond: arrivals.length / ((last - resumedAt) / 1000),
      firstStartAfterResumeMs: first - resumedAt,
      busyCores,
      allCpuMsPerStart: ((busyCores.ours * windowSeconds) / recordings) * 1000,
      cpuMsPerStart: {
        recorders: (recorderCpu / recordings) * 1000,
        api: ((cpuUsed.api ?? Number.NaN) / recordings) * 1000,
        redis: ((cpuUsed.redis ?? Number.NaN) / recordings) * 1000,
      },
    };
  } finally {
    await control.close();
    connection.disconnect();
    await bench.stop();
  }
}

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const perRecorder = ctx.quick ? 100 : 300;
  // 8 recorders go past what 2 cores can feed: the point where the curve flattens.
  const counts = ctx.quick ? [1, 2, 4] : [1, 2, 4, 8];
  const points: Point[] = [];
  for (const recorders of counts) {
    points.push(await measure(ctx, recorders, perRecorder * Math.min(recorders, 4)));
  }
  const cores = availableParallelism();
  const row = (point: Point): Cell[] => [
    point.recorders,
    point.recordings,
    perSecond(point.ceilingPerSecond),
    perSecond(point.steadyPerSecond),
    perSecond(point.overallPerSecond),
    coresBusy(point.busyCores, cores),
    `${point.cpuMsPerStart.recorders?.toFixed(2)} / ${point.cpuMsPerStart.api?.toFixed(2)} / ${point.cpuMsPerStart.redis?.toFixed(2)} ms`,
    ms(point.firstStartAfterResumeMs),
  ];
  const one = points[0]?.steadyPerSecond ?? Number.NaN;
  return {
    tables: [
      {
        title: `Scale-out: Start requests reaching egress per second; Start latency ${START_LATENCY_MS} ms, RECORDER_CONCURRENCY ${CONCURRENCY}`,
        columns: [
          "recorders",
          "recordings",
          "ceiling (n × 10 ÷ 0.2 s)",
          "steady Starts/s",
          "overall Starts/s",
          "CPU busy (machine)",
          "CPU per Start: recorders / api / Redis",
          "first Start after resume",
        ],
        rows: points.map(row),
      },
      {
        title: "Scale-out: speed-up over one recorder",
        columns: [
          "recorders",
          "steady Starts/s",
          "× one recorder",
          "share of the ceiling",
          "CPU per Start, all processes",
          `CPU limit (${cores} cores ÷ CPU per Start)`,
        ],
        rows: points.map((point) => [
          point.recorders,
          perSecond(point.steadyPerSecond),
          `${(point.steadyPerSecond / one).toFixed(2)}×`,
          `${((point.steadyPerSecond / point.ceilingPerSecond) * 100).toFixed(0)} %`,
          ms(point.allCpuMsPerStart),
          perSecond((cores * 1000) / point.allCpuMsPerStart),
        ]),
      },
    ],
    targets: [],
    data: { startLatencyMs: START_LATENCY_MS, concurrency: CONCURRENCY, points },
    notes: [
      "Each point is its own fleet (Redis, emulators, API, storage listener, mailer and n recorders) on the same 2 cores. The recordings are queued with the control queue paused, then the queue is resumed: the rate is the recorders' own. 'Steady' counts the arrivals between the 10th and the 90th percentile, leaving out the ramp-up and the tail.",
      `A recorder holds ${CONCURRENCY} Starts in flight, each waiting ${START_LATENCY_MS} ms for egress: ${(CONCURRENCY * 1000) / START_LATENCY_MS}/s per recorder at most, whatever the CPU. Each Start also costs CPU in the recorder, the API (egress webhooks), Redis and the egress emulator; when the 2 cores are busy, adding recorders adds no throughput.`,
    ],
  };
}

export const scaleOut: Benchmark = {
  name: "scale-out",
  title: "5. Scale-out: recordings started per second with 1, 2, 4 (and 8) recorders",
  run,
};
