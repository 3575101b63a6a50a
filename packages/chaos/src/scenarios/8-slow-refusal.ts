import { WAIT_NOTES } from "@recfleet/recordings";
import { runLifecycle, runPool } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, expectNotified, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

/** How long a recording may wait for a free egress: each try costs a whole request timeout. */
const ACTIVE_TIMEOUT_MS = 8 * 60_000;
const BACKPRESSURE = /^recfleet_recorder_start_backpressure_total\{([^}]*)\} (\S+)$/gm;

/** The recorders' start_backpressure_total by cause, summed over every recorder. */
async function backpressureByCause(fleet: ChaosFleet): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const name of fleet.recorders) {
    const health = fleet.test.info.health[name];
    if (!health) continue;
    const response = await fetch(health.replace(/\/readyz$/, "/metrics"), {
      signal: AbortSignal.timeout(5000),
    });
    for (const [, labels = "", value] of (await response.text()).matchAll(BACKPRESSURE)) {
      const cause = /(?:^|,)cause="([^"]*)"/.exec(labels)?.[1] ?? "?";
      totals[cause] = (totals[cause] ?? 0) + Number(value);
    }
  }
  return totals;
}

/**
 * A full egress fleet as LiveKit really answers it: no instance bids, and livekit-server says
 * 503 "no response from servers" only after psrpc's retries, ~20 s later — after the SDK's
 * request timeout. The recorder sees timeouts, never the 503: each must count as backpressure,
 * be followed by a look for an egress it may have started, and be retried until a slot frees,
 * without ever starting a recording twice.
 */
export const slowRefusal: Scenario = {
  name: "slow-refusal",
  title: "a full egress fleet that refuses only after ~20 s, as LiveKit does",
  behaviour:
    "recordings wait through Start timeouts of a full egress fleet that refuses late, and each records once",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.slowRefusal;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    const before = await backpressureByCause(fleet);
    const usual = await fleet.livekit<{ refusalDelayMs: number }>("/faults");
    // Full at first, whatever the timing: every recording meets a Start that times out before
    // any slot opens.
    await fleet.livekit("/faults", { capacity: 0, refusalDelayMs: settings.refusalDelayMs });
    const specs = await run.specs(settings.recordings);
    let waiting = specs.length;
    let opened = () => {};
    const slotsOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    let outcomes: Awaited<ReturnType<typeof runLifecycle>>[];
    try {
      outcomes = await runPool(specs, specs.length, (spec) =>
        runLifecycle(spec, {
          api: fleet.api,
          watch: run.watch,
          random: run.random.fork(spec.room),
          holdMs: settings.holdMs,
          activeTimeoutMs: ACTIVE_TIMEOUT_MS,
          settleMs: profile.settleMs,
          onCreated: async (id) => {
            try {
              await run.untilNoted(id, "capacity", ACTIVE_TIMEOUT_MS);
            } finally {
              waiting -= 1;
              if (waiting === 0) {
                run.log(`every recording waits for egress; the fleet takes ${settings.capacity} now`);
                await fleet.livekit("/faults", { capacity: settings.capacity });
                opened();
              }
            }
            await slotsOpen;
          },
        }),
      );
    } finally {
      await fleet.livekit("/faults", { capacity: null, refusalDelayMs: usual.refusalDelayMs });
    }
    const after = await backpressureByCause(fleet);
    const timeouts = (after.timeout ?? 0) - (before.timeout ?? 0);
    const unavailable = (after.unavailable ?? 0) - (before.unavailable ?? 0);

    await run.startLog.poll();
    const ids = new Set(outcomes.map((outcome) => outcome.id));
    const starts = run.startLog.starts.filter((start) => ids.has(start.recordingId ?? ""));
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    run.metrics.startCalls = starts.length;
    // Only those whose late refusal came before this poll: the rest are still being held.
    run.metrics.startsAbandonedByClient = starts.filter((start) => start.clientGone).length;
    run.metrics.backpressureTimeouts = timeouts;
    run.metrics.backpressureUnavailable = unavailable;
    run.metrics.waitForEgressMaxMs = Math.max(
      0,
      ...outcomes
        .filter((outcome) => outcome.activeAt !== undefined)
        .map((outcome) => (outcome.activeAt ?? 0) - outcome.createdAt),
    );
    run.faults.capacity = settings.capacity;
    run.faults.refusalDelayMs = settings.refusalDelayMs;
    const notTimedOut = outcomes.filter(
      (outcome) =>
        !outcome.final?.timeline.some((entry) => entry.reason.startsWith(`${WAIT_NOTES.capacity} (timeout`)),
    );
    run.addCheck(
      "every first Start timed out against the full fleet and was counted as backpressure",
      [
        ...notTimedOut.map((outcome) => `${outcome.id ?? outcome.spec.room} never noted a Start timeout`),
        ...(timeouts >= outcomes.length
          ? []
          : [`start_backpressure_total{cause="timeout"} grew by ${timeouts}, expected ≥ ${outcomes.length}`]),
      ],
      `${timeouts} Start timeouts counted as backpressure (timeout), ${unavailable} as unavailable`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectNotified(outcomes));
  },
};
