// `npm run bench`: runs the benchmarks (or some: --only a,b), prints a table per benchmark and
// writes each one's numbers as JSON. Benchmarks report against their targets; they never fail
// on a missed target, only on a broken run.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { apiIntake } from "./benchmarks/api-intake.ts";
import { controlPlaneLatency } from "./benchmarks/control-plane-latency.ts";
import { footprint } from "./benchmarks/footprint.ts";
import { queueVsSync } from "./benchmarks/queue-vs-sync.ts";
import { rescanGrowth } from "./benchmarks/rescan-growth.ts";
import { scaleOut } from "./benchmarks/scale-out.ts";
import { storageToInbox } from "./benchmarks/storage-to-inbox.ts";
import type { Benchmark, BenchmarkReport } from "./lib/benchmark.ts";
import { startCpuSampler } from "./lib/cpu.ts";
import { coresBusy } from "./lib/format.ts";
import { currentLoad, describeMachine, machineLine } from "./lib/machine.ts";
import { waitForQuietMachine } from "./lib/quiet.ts";
import { DEFAULT_RESULTS_DIR, writeResult } from "./lib/results.ts";
import { renderTable } from "./lib/table.ts";

const BENCHMARKS: Benchmark[] = [
  apiIntake,
  controlPlaneLatency,
  storageToInbox,
  queueVsSync,
  scaleOut,
  footprint,
  rescanGrowth,
];

const USAGE = `usage: node --conditions=@recfleet/source src/main.ts [options]

  --only <names>        run only these benchmarks (comma-separated or repeated): ${BENCHMARKS.map((b) => b.name).join(", ")}
  --quick               shorter runs and smaller samples (a look, not numbers to publish)
  --out <dir>           where the JSON results go (default: bench-results/ at the repository root)
  --quiet-load <n>      wait until the 1-minute load average is below n before measuring (default 0.7)
  --max-wait <seconds>  wait at most this long for a quiet machine (default 300; 0: do not wait)
  --list                list the benchmarks and exit
  -h, --help            this help
`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        only: { type: "string", multiple: true },
        quick: { type: "boolean", default: false },
        out: { type: "string", default: DEFAULT_RESULTS_DIR },
        "quiet-load": { type: "string", default: "0.7" },
        "max-wait": { type: "string", default: "300" },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
}

const options = parse();
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (options.list) {
  for (const benchmark of BENCHMARKS)
    process.stdout.write(`${benchmark.name.padEnd(24)} ${benchmark.title}\n`);
  process.exit(0);
}
const quietLoad = Number(options["quiet-load"]);
const maxWaitSeconds = Number(options["max-wait"]);
if (!Number.isFinite(quietLoad) || quietLoad <= 0) fail(`--quiet-load must be a positive number`);
if (!Number.isFinite(maxWaitSeconds) || maxWaitSeconds < 0)
  fail(`--max-wait must be a number of seconds ≥ 0`);
const wanted = (options.only ?? [])
  .flatMap((value) => value.split(","))
  .map((name) => name.trim())
  .filter((name) => name !== "");
const unknown = wanted.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) fail(`unknown benchmark(s): ${unknown.join(", ")}`);
const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const print = (text: string) => process.stdout.write(`${text}\n`);

const machine = describeMachine();
print(`# recfleet benchmarks${options.quick ? " (quick)" : ""}\n`);
print(`Machine: ${machineLine(machine)}`);
const quiet = await waitForQuietMachine({ threshold: quietLoad, maxWaitMs: maxWaitSeconds * 1000, log });
print(
  `Load average when measuring began: ${currentLoad()
    .map((value) => value.toFixed(2))
    .join(" ")} (${quiet.quiet ? "quiet" : "busy"}; waited ${Math.round(quiet.waitedMs / 1000)} s)\n`,
);

let broken = 0;
const summary: { benchmark: string; target: string; measured: string; met: boolean }[] = [];
for (const benchmark of selected) {
  print(`## ${benchmark.title}\n`);
  const loadAtStart = currentLoad();
  const started = performance.now();
  const cpu = startCpuSampler(availableParallelism());
  let report: BenchmarkReport;
  try {
    report = await benchmark.run({
      quick: options.quick,
      log: (message) => log(`${benchmark.name}: ${message}`),
    });
  } catch (error) {
    broken += 1;
    print(`**${benchmark.name} did not complete:** ${(error as Error).stack ?? String(error)}\n`);
    continue;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuUse = cpu.stop();
  for (const table of report.tables) print(`${renderTable(table)}\n`);
  if (report.targets.length > 0) {
    print(
      `${renderTable({
        title: "Targets",
        columns: ["target", "measured", "result"],
        rows: report.targets.map((target) => [target.target, target.measured, target.met ? "met" : "MISSED"]),
      })}\n`,
    );
  }
  for (const note of report.notes) print(`- ${note}`);
  print(
    `\n_load average at start ${loadAtStart.map((value) => value.toFixed(2)).join(" ")}; took ${seconds.toFixed(0)} s; CPU over the whole benchmark ${coresBusy(cpuUse, availableParallelism())}_\n`,
  );
  for (const target of report.targets) summary.push({ benchmark: benchmark.name, ...target });
  const file = writeResult(options.out, benchmark.name, {
    benchmark: benchmark.name,
    title: benchmark.title,
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    machine,
    loadAverageAtStart: loadAtStart,
    seconds,
    cpu: cpuUse,
    targets: report.targets,
    notes: report.notes,
    tables: report.tables,
    data: report.data,
  });
  log(`${benchmark.name}: results written to ${file}`);
}

if (summary.length > 0) {
  print(
    `${renderTable({
      title: "All targets",
      columns: ["benchmark", "target", "measured", "result"],
      rows: summary.map((entry) => [
        entry.benchmark,
        entry.target,
        entry.measured,
        entry.met ? "met" : "MISSED",
      ]),
    })}\n`,
  );
}
process.exit(broken > 0 ? 1 : 0);
