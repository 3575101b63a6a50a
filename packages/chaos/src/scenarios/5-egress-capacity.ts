import { runLifecycle, runPool } from "../driver.ts";
import { egressViews } from "../evidence.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Expectation } from "../invariants.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

/** How long a recording may wait for a free egress: the backoff grows to 30 s between tries. */
const ACTIVE_TIMEOUT_MS = 8 * 60_000;

/**
 * All recordings at once against an egress fleet that runs only a few egresses: Start answers
 * 503 until one is free, and the recorder must keep retrying (without spending attempts or
 * starting anything twice) until every recording ran. One egress instance dies while recording:
 * its recording can never be stopped and must end `failed(lost)` with a failure email.
 */
export const egressCapacity: Scenario = {
  name: "egress-capacity",
  title: "egress fleet at capacity, one egress instance crashing",
  behaviour:
    "recordings wait for a full egress fleet, and the one whose egress crashes ends failed(lost) with a failure email",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.egressCapacity;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    await fleet.livekit("/faults", { capacity: settings.capacity, crashNext: settings.crashes });
    const specs = await run.specs(settings.recordings);
    let active = 0;
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
          onActive: () => {
            active += 1;
            if (active % 5 === 0) run.log(`${active}/${specs.length} recordings got an egress`);
          },
        }),
      );
    } finally {
      await fleet.livekit("/faults", { capacity: null, crashNext: 0 });
    }

    const egresses = await egressViews(fleet);
    const ids = new Set(outcomes.map((outcome) => outcome.id));
    const crashed = egresses.filter((egress) => egress.crashed && ids.has(egress.recordingId ?? ""));
    const crashedIds = new Set(crashed.map((egress) => egress.recordingId));
    const expectations: Expectation[] = outcomes
      .filter((outcome) => outcome.id !== undefined)
      .map((outcome) => {
        const id = outcome.id ?? "";
        return crashedIds.has(id)
          ? {
              id,
              room: outcome.spec.room,
              accept: [{ status: "failed", code: "lost", failureEmail: true }],
              why: "its egress instance crashed while recording",
            }
          : { id, room: outcome.spec.room, accept: [{ status: "notified" }] };
      });

    await run.startLog.poll();
    const starts = run.startLog.starts.filter((start) => ids.has(start.recordingId ?? ""));
    run.faults.capacity = settings.capacity;
    run.faults.crashedEgresses = crashed.map((egress) => ({
      egressId: egress.egressId,
      recordingId: egress.recordingId,
    }));
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    run.metrics.startCalls = starts.length;
    run.metrics.startsRefusedUnavailable = starts.filter((start) => start.code === "unavailable").length;
    const waits = outcomes
      .filter((outcome) => outcome.activeAt !== undefined)
      .map((outcome) => (outcome.activeAt ?? 0) - outcome.createdAt);
    run.metrics.waitForEgressMaxMs = Math.max(0, ...waits);
    run.metrics.crashedRecordingEndedAfterStopMs = Math.max(
      0,
      ...outcomes
        .filter((outcome) => crashedIds.has(outcome.id ?? ""))
        .map((outcome) => (outcome.finalAt ?? 0) - (outcome.stopSentAt ?? 0)),
    );
    run.addCheck(
      "the egress fleet was full and the crash happened",
      [
        ...(crashed.length === settings.crashes
          ? []
          : [`${crashed.length} egress(es) crashed, ${settings.crashes} armed`]),
        ...(run.metrics.startsRefusedUnavailable > 0
          ? []
          : ["no Start was refused: the fleet was never full"]),
      ],
      `${run.metrics.startsRefusedUnavailable} Starts refused with 503, ${crashed.length} crash(es)`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectations);
  },
};
