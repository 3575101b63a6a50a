// The long fault-injection run: `npm run test:chaos` (pnpm --filter @recfleet/chaos chaos).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startChaosFleet } from "./fleet.ts";
import { ciProfile, LONG_NOMINAL_MINUTES, longProfile, type Profile } from "./profile.ts";
import { formatResults } from "./report.ts";
import type { ScenarioResult } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/index.ts";

const USAGE = `Usage: node --conditions=@recfleet/source src/main.ts [options]

Runs the fault-injection scenarios against a whole fleet of real processes (Redis, the S3,
SMTP and LiveKit Egress emulators, the API and the workers) and checks the invariants after
each one. Prints a results table and writes JSON to bench-results/chaos-<date>.json.

Options:
  --minutes <n>      scale the long profile to about n minutes (default ${LONG_NOMINAL_MINUTES}: the full
                     sizes: 300 recordings under recorder kills, 50 through an egress fleet of 2 …)
  --only <name>      run only this scenario (repeatable, or comma-separated); one of:
                     ${SCENARIOS.map((scenario) => scenario.name).join(", ")}
  --seed <n>         replay a run: the seed is printed with every result
  --profile <name>   long (default) or ci (the sizes of the vitest CI profile)
  --keep             keep the fleet's state directory (logs) even when every scenario passed
  -h, --help         this text
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        minutes: { type: "string" },
        only: { type: "string", multiple: true },
        seed: { type: "string" },
        profile: { type: "string" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}

function parse(): { profile: Profile; only: string[]; keep: boolean } {
  const values = readArgs();
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const seedText = values.seed;
  const seed = seedText === undefined ? undefined : Number(seedText);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    fail(`--seed must be a whole number from 0 to ${0xffffffff}, got ${seedText}`);
  }
  const minutesText = values.minutes;
  const minutes = minutesText === undefined ? undefined : Number(minutesText);
  if (minutes !== undefined && !(Number.isFinite(minutes) && minutes > 0)) {
    fail(`--minutes must be a positive number, got ${minutesText}`);
  }
  const profileName = values.profile ?? "long";
  if (profileName !== "long" && profileName !== "ci")
    fail(`--profile must be long or ci, got ${profileName}`);
  if (profileName === "ci" && minutes !== undefined) fail("--minutes applies to the long profile only");
  const profile = profileName === "ci" ? ciProfile(seed) : longProfile(minutes, seed);
  const known = new Set(SCENARIOS.map((scenario) => scenario.name));
  const only = (values.only ?? []).flatMap((item) => item.split(",")).filter(Boolean);
  for (const name of only) if (!known.has(name)) fail(`unknown scenario ${name}`);
  return { profile, only, keep: Boolean(values.keep) };
}

const { profile, only, keep } = parse();
const scenarios = SCENARIOS.filter((scenario) => only.length === 0 || only.includes(scenario.name));
process.stderr.write(
  `chaos: ${profile.name} profile, seed ${profile.seed}, scenarios: ${scenarios.map((s) => s.name).join(", ")}\n`,
);
const started = Date.now();
const fleet = await startChaosFleet(profile);
process.stderr.write(`chaos: fleet ready in ${Date.now() - started} ms; logs in ${fleet.logsDir}\n`);
// Ctrl-C, or an error nothing caught, stops the fleet in order and keeps its logs, rather than
// leaving its processes behind.
const abandon = (why: string, code: number) => {
  process.stderr.write(`chaos: ${why}: stopping the fleet; logs kept in ${fleet.logsDir}\n`);
  void fleet.stop({ keepState: true }).finally(() => process.exit(code));
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => abandon(signal, 130));
process.once("unhandledRejection", (error) =>
  abandon(`unexpected error: ${(error as Error)?.stack ?? error}`, 1),
);
const results: ScenarioResult[] = [];
let crashed: Error | undefined;
try {
  for (const scenario of scenarios) {
    process.stderr.write(`chaos: ${scenario.name}: ${scenario.title}\n`);
    results.push(await scenario.run(fleet, profile));
    const last = results.at(-1);
    process.stderr.write(
      `chaos: ${scenario.name} ${last?.passed ? "passed" : "FAILED"} in ${last?.durationMs} ms\n`,
    );
  }
} catch (error) {
  crashed = error as Error;
} finally {
  const passed = !crashed && results.every((result) => result.passed);
  await fleet.stop({ keepState: keep || !passed });
}

const report = {
  profile: profile.name,
  seed: profile.seed,
  settings: profile,
  startedAt: new Date(started).toISOString(),
  durationMs: Date.now() - started,
  passed: !crashed && results.every((result) => result.passed),
  ...(crashed ? { error: crashed.stack ?? crashed.message } : {}),
  results,
};
const dir = join(fileURLToPath(new URL("../../../", import.meta.url)), "bench-results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `chaos-${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${formatResults(results)}\n\nseed ${profile.seed}; results in ${file}\n`);
if (crashed) process.stderr.write(`chaos: the run stopped: ${crashed.stack ?? crashed.message}\n`);
if (!report.passed) process.stderr.write(`chaos: fleet logs kept in ${fleet.logsDir}\n`);
process.exit(report.passed ? 0 : 1);
