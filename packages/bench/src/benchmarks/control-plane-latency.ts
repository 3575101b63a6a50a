import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { startCpuSampler } from "../lib/cpu.ts";
import { cpuDelta, egressStarts, fleetCpuSeconds, redisCommands, startBenchFleet } from "../lib/fleet.ts";
import { coresBusy, ms, perSecond } from "../lib/format.ts";
import { finishRecordings, type Posted, paced, postRecording, waitUntil } from "../lib/recordings.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import type { Cell } from "../lib/table.ts";

const RATE = 100;

const summaryRow = (label: string, summary: Summary): Cell[] => [
  label,
  summary.count,
  ms(summary.min),
  ms(summary.p50),
  ms(summary.p90),
  ms(summary.p99),
  ms(summary.max),
];

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const count = ctx.quick ? 300 : 1000;
  const warmup = ctx.quick ? 100 : 300;
  ctx.log("starting the fleet (one recorder, egress capacity unlimited)");
  const bench = await startBenchFleet();
  const { info } = bench.fleet;
  try {
    const runId = randomBytes(3).toString("hex");
    const post = (label: string) => (i: number) => postRecording(info, { room: `cp-${runId}-${label}-${i}` });
    const awaitStarts = async (rooms: Set<string>) =>
      waitUntil(
        "egress to receive every Start",
        async () =>
          (await egressStarts(bench.fleet)).filter((start) => rooms.has(start.room)).length >= rooms.size,
        60_000,
      );

    ctx.log(`warm-up: ${warmup} recordings at ${RATE}/s`);
    const warm = await paced(warmup, RATE, post("warmup"));
    await awaitStarts(new Set(warm.results.map((posted) => posted.room)));

    ctx.log(`measuring: ${count} recordings at ${RATE}/s`);
    const cpuBefore = await fleetCpuSeconds(bench);
    const commandsBefore = await redisCommands(bench.redis);
    const machineCpu = startCpuSampler(availableParallelism());
    const measured = await paced(count, RATE, post("run"));
    const accepted = measured.results.filter((posted) => posted.status === 202);
    await awaitStarts(new Set(accepted.map((posted) => posted.room)));
    const busyCores = machineCpu.stop();
    const cpuUsed = cpuDelta(cpuBefore, await fleetCpuSeconds(bench));
    const commandsPerRecording = ((await redisCommands(bench.redis)) - commandsBefore) / count;
    const firstStart = new Map<string, number>();
    for (const start of await egressStarts(bench.fleet))
      if (!firstStart.has(start.room)) firstStart.set(start.room, start.at);

    const toStart: number[] = [];
    const sendToStart: number[] = [];
    for (const posted of accepted) {
      const at = firstStart.get(posted.room);
      if (at === undefined) continue;
      toStart.push(at - posted.answeredAt);
      sendToStart.push(at - posted.sentAt);
    }
    const afterAnswer = summarize(toStart);
    const afterSend = summarize(sendToStart);
    const apiLatency = summarize(accepted.map((posted) => posted.answeredAt - posted.sentAt));
    const lateness = summarize(measured.lateness);
    const beforeAnswer = toStart.filter((value) => value < 0).length;

    ctx.log("stopping every recording and waiting until all are final");
    const ids = [...warm.results, ...measured.results]
      .map((posted: Posted) => posted.id)
      .filter((id): id is string => id !== null);
    const cleanup = await finishRecordings(bench, ids, { timeoutMs: 180_000 });
    const finalCounts = await bench.store.countByStatus();

    return {
      tables: [
        {
          title: `Control-plane latency: ${count} recordings at ${RATE}/s, one recorder (RECORDER_CONCURRENCY 10)`,
          columns: ["interval", "n", "min", "p50", "p90", "p99", "max"],
          rows: [
            summaryRow("202 received → egress receives StartRoomCompositeEgress", afterAnswer),
            summaryRow("POST sent → egress receives Start", afterSend),
            summaryRow("POST sent → 202 received (API response time)", apiLatency),
          ],
        },
        {
          title: "Control-plane latency: the run",
          columns: ["measure", "value"],
          rows: [
            ["offered rate", perSecond(RATE)],
            ["achieved send rate", perSecond((count / measured.elapsedMs) * 1000)],
            ["answers", `202×${accepted.length} of ${count}`],
            ["send lateness p99 / max (load generator jitter)", `${ms(lateness.p99)} / ${ms(lateness.max)}`],
            ["Starts that reached egress before the client read the 202", beforeAnswer],
            ["machine CPU busy while measuring", coresBusy(busyCores, availableParallelism())],
            [
              "CPU per recording (api, recorder, Redis)",
              ["api", "recorder", "redis"]
                .map((name) => `${(((cpuUsed[name] ?? Number.NaN) / count) * 1e6).toFixed(0)} µs`)
                .join(", "),
            ],
            ["Redis commands per recording (all clients, until its Start)", commandsPerRecording.toFixed(1)],
            ["clean-up: stop answers", JSON.stringify(cleanup.stopAnswers)],
            ["clean-up: all final after", ms(cleanup.settledMs)],
            ["final statuses", JSON.stringify(finalCounts)],
          ],
        },
      ],
      targets: [
        { target: "202 → Start p50 ≤ 10 ms", measured: ms(afterAnswer.p50), met: afterAnswer.p50 <= 10 },
        { target: "202 → Start p99 ≤ 50 ms", measured: ms(afterAnswer.p99), met: afterAnswer.p99 <= 50 },
      ],
      data: {
        rate: RATE,
        count,
        warmup,
        accepted: accepted.length,
        answerToStart: afterAnswer,
        sendToStart: afterSend,
        apiResponse: apiLatency,
        sendLateness: lateness,
        startsBeforeAnswer: beforeAnswer,
        busyCores,
        cpuSecondsUsed: cpuUsed,
        redisCommandsPerRecording: commandsPerRecording,
        cleanup,
        finalCounts,
      },
      notes: [
        "The 202 time is the client's (performance.timeOrigin + performance.now(), when the status line arrived); the Start time is the egress emulator's request-log `at` (Date, millisecond resolution, taken when the request arrives, before its body is read). Same machine, same clock; the emulator's truncation to the millisecond biases each sample by −0.5 ms on average.",
        "The API enqueues the start job before it answers, so a recorder can pick the job up while the 202 is still on its way: those samples are negative and are kept.",
        "The path measured: BullMQ delivers the job to the waiting recorder (blocking read on its worker connection), the recorder moves the recording to starting, takes the start lease, builds the request and signs the token, and the SDK's HTTP request reaches egress. Egress webhooks (started, active) and the clean-up run on the same 2 cores.",
      ],
    };
  } finally {
    await bench.stop();
  }
}

export const controlPlaneLatency: Benchmark = {
  name: "control-plane-latency",
  title: "2. Control-plane latency: 202 → StartRoomCompositeEgress at egress",
  run,
};
