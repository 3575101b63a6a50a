import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { type CannonResult, type CpuProbe, runCannon } from "../lib/cannon.ts";
import { startChildServer } from "../lib/child-server.ts";
import { appCpuSeconds, ownCpuSeconds, processCpuSeconds } from "../lib/cpu.ts";
import { metricsUrl, redisCpuSeconds, startBenchFleet } from "../lib/fleet.ts";
import { coresBusy, ms, perSecond, ratio } from "../lib/format.ts";
import { type OpenLoopResult, runOpenLoop } from "../lib/open-loop.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import type { Cell } from "../lib/table.ts";

const CONNECTIONS = 20;
type SideName = "baseline" | "recfleet";
const LABEL: Record<SideName, string> = {
  baseline: "baseline (Express 5 + one BullMQ add)",
  recfleet: "recfleet API (POST /v1/recordings)",
};

interface Combined {
  requestsPerSecond: number;
  seconds: number;
  statuses: Record<string, number>;
  errors: number;
  latency: Summary;
  /** Average machine use over the rounds, in cores, and the part that was not this benchmark. */
  cpu: { machine: number; others: number };
  cpuPerRequestUs: Record<string, number>;
}

/** Rounds of one side taken together: requests/s over the total time, percentiles over all raw samples. */
function combine(rounds: CannonResult[], samples: number[]): Combined {
  const seconds = rounds.reduce((sum, round) => sum + round.durationSeconds, 0);
  const ok = rounds.reduce((sum, round) => sum + round.requestsPerSecond * round.durationSeconds, 0);
  const statuses: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const round of rounds) {
    const answered = round.requestsPerSecond * round.durationSeconds;
    for (const [status, count] of Object.entries(round.statuses))
      statuses[status] = (statuses[status] ?? 0) + count;
    for (const [name, us] of Object.entries(round.cpuPerRequestUs))
      cpu[name] = (cpu[name] ?? 0) + us * answered;
  }
  return {
    requestsPerSecond: ok / seconds,
    seconds,
    statuses,
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    latency: summarize(samples),
    cpu: {
      machine: summarize(rounds.map((round) => round.cpu.machine)).mean,
      others: summarize(rounds.map((round) => round.cpu.others)).mean,
    },
    cpuPerRequestUs: Object.fromEntries(Object.entries(cpu).map(([name, total]) => [name, total / ok])),
  };
}

const answers = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, count]) => `${status}×${count}`)
    .join(" ");

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const cores = availableParallelism();
  const rounds = ctx.quick ? 1 : 2;
  const roundSeconds = ctx.quick ? 4 : 6;
  const warmupSeconds = ctx.quick ? 1 : 3;
  const fixedRateSeconds = ctx.quick ? 3 : 5;
  // Only Redis, the emulators (idle) and the API: no recorder, so the start jobs pile up in the
  // control queue, as the baseline's jobs do in its own queue. Nothing else competes for the CPU.
  ctx.log("starting Redis and the API (no workers)");
  const bench = await startBenchFleet({ replicas: { recorder: 0, "storage-listener": 0, mailer: 0 } });
  const baseline = await startChildServer("baseline-intake", { REDIS_URL: bench.fleet.info.redisUrl });
  try {
    const runId = randomBytes(3).toString("hex");
    const apiMetrics = metricsUrl(bench.fleet, "api");
    const baselinePid = baseline.pid;
    if (baselinePid === undefined) throw new Error("the baseline server has no pid");
    const common: Record<string, CpuProbe> = {
      redis: () => redisCpuSeconds(bench.redis),
      "load generator": ownCpuSeconds,
    };
    const targets: Record<
      SideName,
      { url: string; headers: Record<string, string>; probes: Record<string, CpuProbe> }
    > = {
      recfleet: {
        url: bench.fleet.info.apiUrl,
        headers: { authorization: `Bearer ${bench.fleet.info.apiKey}` },
        probes: { server: () => appCpuSeconds(apiMetrics), ...common },
      },
      baseline: {
        url: baseline.url,
        headers: {},
        probes: { server: () => processCpuSeconds(baselinePid), ...common },
      },
    };
    const cannon = (side: SideName, seconds: number, round: string, overallRate?: number) =>
      runCannon({
        url: targets[side].url,
        path: "/v1/recordings",
        headers: targets[side].headers,
        connections: CONNECTIONS,
        durationSeconds: seconds,
        ...(overallRate ? { overallRate } : {}),
        cores,
        cpuProbes: targets[side].probes,
        body: (n) => ({ room: `intake-${runId}-${side}-${round}-${n}` }),
      });

    ctx.log(`warming up both for ${warmupSeconds} s`);
    await cannon("baseline", warmupSeconds, "warmup");
    await cannon("recfleet", warmupSeconds, "warmup");
    const closed: Record<SideName, { rounds: CannonResult[]; samples: number[] }> = {
      baseline: { rounds: [], samples: [] },
      recfleet: { rounds: [], samples: [] },
    };
    // Alternate the two so that a drift of the machine (other work, Redis' AOF) hits both alike.
    for (let round = 1; round <= rounds; round += 1) {
      for (const side of ["baseline", "recfleet"] as const) {
        ctx.log(`round ${round}/${rounds}: ${side}, ${CONNECTIONS} connections, ${roundSeconds} s`);
        const { result, samples } = await cannon(side, roundSeconds, String(round));
        closed[side].rounds.push(result);
        for (const sample of samples) closed[side].samples.push(sample);
      }
    }
    const ours = combine(closed.recfleet.rounds, closed.recfleet.samples);
    const base = combine(closed.baseline.rounds, closed.baseline.samples);
    const throughputRatio = ours.requestsPerSecond / base.requestsPerSecond;
    const p99Ratio = ours.latency.p99 / base.latency.p99;

    // At saturation a closed loop's latency is connections ÷ throughput (Little's law), so the p99
    // ratio there mostly repeats the throughput ratio. The same open-loop offered load for both
    // shows the latency of one request: light (neither server queues), then moderate.
    const rates = [250, 1000];
    const fixed: { side: SideName; result: OpenLoopResult }[] = [];
    for (const rate of rates) {
      for (const side of ["baseline", "recfleet"] as const) {
        ctx.log(`${side} at a fixed ${rate} requests/s (open loop) for ${fixedRateSeconds} s`);
        const result = await runOpenLoop({
          url: targets[side].url,
          path: "/v1/recordings",
          headers: targets[side].headers,
          ratePerSecond: rate,
          durationSeconds: fixedRateSeconds,
          cores,
          body: (n) => ({ room: `intake-${runId}-${side}-open-${rate}-${n}` }),
        });
        fixed.push({ side, result });
      }
    }
    const fixedAt = (side: SideName, rate: number) =>
      fixed.find((entry) => entry.side === side && entry.result.ratePerSecond === rate)?.result;
    const fixedP99Ratios = rates.map(
      (rate) =>
        (fixedAt("recfleet", rate)?.latency.p99 ?? Number.NaN) /
        (fixedAt("baseline", rate)?.latency.p99 ?? Number.NaN),
    );

    const closedRow = (side: SideName, c: Combined): Cell[] => [
      LABEL[side],
      perSecond(c.requestsPerSecond),
      ms(c.latency.p50),
      ms(c.latency.p90),
      ms(c.latency.p99),
      ms(c.latency.max),
      answers(c.statuses),
      coresBusy(c.cpu, cores),
    ];
    const cpuRow = (side: SideName, c: Combined): Cell[] => [
      LABEL[side],
      `${(c.cpuPerRequestUs.server ?? Number.NaN).toFixed(0)} µs`,
      `${(c.cpuPerRequestUs.redis ?? Number.NaN).toFixed(0)} µs`,
      `${(c.cpuPerRequestUs["load generator"] ?? Number.NaN).toFixed(0)} µs`,
    ];
    const fixedRow = ({ side, result }: { side: SideName; result: OpenLoopResult }): Cell[] => [
      LABEL[side],
      perSecond(result.ratePerSecond),
      ms(result.latency.p50),
      ms(result.latency.p90),
      ms(result.latency.p99),
      ms(result.latency.max),
      answers(result.statuses) + (result.errors > 0 ? ` errors×${result.errors}` : ""),
      coresBusy(result.cpu, cores),
    ];
    return {
      tables: [
        {
          title: `API intake, closed loop: ${CONNECTIONS} connections, ${rounds} × ${roundSeconds} s per server, alternated, distinct rooms`,
          columns: ["server", "requests/s", "p50", "p90", "p99", "max", "answers", "CPU busy (machine)"],
          rows: [closedRow("baseline", base), closedRow("recfleet", ours)],
        },
        {
          title: "API intake: CPU time per accepted request (closed loop)",
          columns: ["server", "server process", "Redis", "load generator"],
          rows: [cpuRow("baseline", base), cpuRow("recfleet", ours)],
        },
        {
          title: `API intake at the same offered load (open loop, ${fixedRateSeconds} s per server and rate)`,
          columns: ["server", "offered", "p50", "p90", "p99", "max", "answers", "CPU busy (machine)"],
          rows: fixed.map(fixedRow),
        },
        {
          title: "API intake: recfleet against the baseline",
          columns: ["measure", "recfleet / baseline", "target"],
          rows: [
            ["throughput (closed loop)", ratio(throughputRatio), "≥ 0.80×"],
            ["p99 latency (closed loop)", ratio(p99Ratio), "≤ 2.00×"],
            ...rates.map((rate, i): Cell[] => [
              `p99 latency at ${rate}/s offered`,
              ratio(fixedP99Ratios[i] ?? Number.NaN),
              "—",
            ]),
          ],
        },
      ],
      targets: [
        {
          target: "intake throughput ≥ 0.8 × baseline",
          measured: `${ratio(throughputRatio)} (${perSecond(ours.requestsPerSecond)} vs ${perSecond(base.requestsPerSecond)})`,
          met: throughputRatio >= 0.8,
        },
        {
          target: "intake p99 ≤ 2 × baseline",
          measured: `${ratio(p99Ratio)} (${ms(ours.latency.p99)} vs ${ms(base.latency.p99)})`,
          met: p99Ratio <= 2,
        },
      ],
      data: {
        connections: CONNECTIONS,
        roundSeconds,
        rounds: { baseline: closed.baseline.rounds, recfleet: closed.recfleet.rounds },
        closedLoop: { baseline: base, recfleet: ours },
        openLoop: { seconds: fixedRateSeconds, runs: fixed, p99Ratios: fixedP99Ratios },
        throughputRatio,
        p99Ratio,
      },
      notes: [
        "Both servers are separate Node processes on the same Redis (the sandbox's redis-server, AOF everysec); autocannon runs in the bench process. Load generator, server and Redis share the 2 cores: 'CPU busy' is the whole machine.",
        "recfleet per request: bearer auth, request id, metrics and an access-log line (pino at warn, so not written), JSON parse, zod validation, one Lua script creating the recording and its room lock, one BullMQ add (job id start-<id>), 202 with links. Baseline: JSON parse, one BullMQ add, 202.",
        "No recorder runs: the start jobs wait in the queue (a recorder would compete for the same 2 cores and measure itself instead of the intake).",
      ],
    };
  } finally {
    await baseline.stop();
    await bench.stop();
  }
}

export const apiIntake: Benchmark = {
  name: "api-intake",
  title: "1. API intake: POST /v1/recordings against a bare Express + BullMQ handler",
  run,
};
