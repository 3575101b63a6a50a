import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { type CannonResult, runCannon } from "../lib/cannon.ts";
import { startChildServer } from "../lib/child-server.ts";
import { egressStarts, LIVEKIT_KEY, LIVEKIT_SECRET, startBenchFleet } from "../lib/fleet.ts";
import { ms, perSecond, ratio } from "../lib/format.ts";
import { epochNow } from "../lib/recordings.ts";
import type { Cell } from "../lib/table.ts";

const CONNECTIONS = 20;
const START_LATENCY_MS = 500;

type SideName = "sync" | "recfleet";
const LABEL: Record<SideName, string> = {
  sync: "synchronous: handler awaits StartRoomCompositeEgress",
  recfleet: "recfleet: 202 after enqueue",
};

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const cores = availableParallelism();
  const seconds = ctx.quick ? 5 : 10;
  const warmupSeconds = ctx.quick ? 1 : 2;
  ctx.log(`starting the fleet, egress answering Start after ${START_LATENCY_MS} ms`);
  const bench = await startBenchFleet({ egressArgs: ["--start-latency-ms", String(START_LATENCY_MS)] });
  const { info } = bench.fleet;
  const sync = await startChildServer("sync-start", {
    LIVEKIT_URL: info.livekitUrl,
    LIVEKIT_API_KEY: LIVEKIT_KEY,
    LIVEKIT_API_SECRET: LIVEKIT_SECRET,
  });
  try {
    const runId = randomBytes(3).toString("hex");
    const targets: Record<SideName, { url: string; headers: Record<string, string> }> = {
      sync: { url: sync.url, headers: {} },
      recfleet: { url: info.apiUrl, headers: { authorization: `Bearer ${info.apiKey}` } },
    };
    const roomPrefix = (side: SideName, round: string) => `qs-${runId}-${side}-${round}-`;
    const cannon = (side: SideName, duration: number, round: string) =>
      runCannon({
        url: targets[side].url,
        path: "/v1/recordings",
        headers: targets[side].headers,
        connections: CONNECTIONS,
        durationSeconds: duration,
        cores,
        body: (n) => ({ room: `${roomPrefix(side, round)}${n}` }),
      });

    // The synchronous server first, while the recorder is idle; recfleet second, with its
    // recorder busy working off the queue the run fills: any interference counts against recfleet.
    const results: Partial<Record<SideName, CannonResult & { startsDuringRun: number }>> = {};
    for (const side of ["sync", "recfleet"] as const) {
      ctx.log(`${side}: warm-up ${warmupSeconds} s, then ${CONNECTIONS} connections for ${seconds} s`);
      await cannon(side, warmupSeconds, "warmup");
      const from = epochNow();
      const { result } = await cannon(side, seconds, "run");
      const to = epochNow();
      // Any of this side's Starts (warm-up ones included: recfleet's recorder is still working
      // off the warm-up's backlog) that reached egress while the run lasted.
      const prefix = `qs-${runId}-${side}-`;
      const startsDuringRun = (await egressStarts(bench.fleet)).filter(
        (start) => start.room.startsWith(prefix) && start.at >= from && start.at <= to,
      ).length;
      results[side] = { ...result, startsDuringRun };
    }
    const row = (side: SideName): Cell[] => {
      const r = results[side];
      if (!r) return [LABEL[side]];
      return [
        LABEL[side],
        perSecond(r.requestsPerSecond),
        ms(r.latency.p50),
        ms(r.latency.p99),
        ms(r.latency.max),
        Object.entries(r.statuses)
          .map(([status, count]) => `${status}×${count}`)
          .join(" ") + (r.errors > 0 ? ` errors×${r.errors}` : ""),
        perSecond(r.startsDuringRun / r.durationSeconds),
      ];
    };
    const ours = results.recfleet;
    const theirs = results.sync;
    return {
      tables: [
        {
          title: `Queue vs synchronous call: egress answers Start after ${START_LATENCY_MS} ms; ${CONNECTIONS} connections, ${seconds} s each`,
          columns: ["design", "requests/s", "p50", "p99", "max", "answers", "egress Starts/s during the run"],
          rows: [row("sync"), row("recfleet")],
        },
        {
          title: "Queue vs synchronous call: recfleet against the synchronous design",
          columns: ["measure", "recfleet / synchronous"],
          rows: [
            [
              "requests/s",
              ratio((ours?.requestsPerSecond ?? Number.NaN) / (theirs?.requestsPerSecond ?? Number.NaN)),
            ],
            [
              "p50 response time",
              ratio((ours?.latency.p50 ?? Number.NaN) / (theirs?.latency.p50 ?? Number.NaN)),
            ],
            [
              "p99 response time",
              ratio((ours?.latency.p99 ?? Number.NaN) / (theirs?.latency.p99 ?? Number.NaN)),
            ],
          ],
        },
      ],
      targets: [],
      data: { startLatencyMs: START_LATENCY_MS, connections: CONNECTIONS, seconds, results },
      notes: [
        `The synchronous server (src/servers/sync-start.ts) is what the design recfleet comes from does: Express 5, the SDK's EgressClient (10 s timeout, no failover) called in the handler, the answer sent when egress has answered. A connection then carries at most 1000 / ${START_LATENCY_MS} = ${1000 / START_LATENCY_MS} requests/s, so ${CONNECTIONS} connections carry at most ${(CONNECTIONS * 1000) / START_LATENCY_MS}/s whatever the CPU.`,
        "recfleet answers once the recording and its start job are in Redis; the recorder calls egress afterwards, RECORDER_CONCURRENCY (10) at a time, so one recorder starts at most 10 / 0.5 s = 20 recordings/s here: the queue absorbs the rest (it is not faster at starting egress; it keeps the API fast and bounds the load on egress).",
        "Both run against the same egress emulator (a fault knob: --start-latency-ms), with the whole fleet up.",
      ],
    };
  } finally {
    await sync.stop();
    await bench.stop();
  }
}

export const queueVsSync: Benchmark = {
  name: "queue-vs-sync",
  title: "4. Queue vs synchronous call: API response time when egress takes 500 ms to answer Start",
  run,
};
