import { runLifecycle, runPool, sleep } from "../driver.ts";
import { egressViews } from "../evidence.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Expectation } from "../invariants.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

interface ListenerStats {
  listeners: { delivered: number; dropped: number }[];
}

/** How the file of a recording was found, from the reason its move to `saved` gives. */
const DETECTION: [string, RegExp][] = [
  ["event", /^files? landed in storage/],
  ["rescan", /re-scan/],
  ["reconciler", /by the reconciler/],
];

/**
 * The S3 emulator is killed and restarted while egress uploads finished recordings, and it
 * loses 30 % of its bucket events meanwhile. Every file that reached the bucket must still be
 * detected (events, the listener's re-scans, or the reconciler's own look) and emailed once;
 * an upload that hit the dead S3 fails its egress, and that recording must end failed with a
 * failure email — never stuck, never silent.
 */
export const s3Restart: Scenario = {
  name: "s3-restart",
  title: "S3 restarted during uploads, with 30 % of bucket events dropped",
  behaviour:
    "every file that reached S3 is detected and emailed once when S3 restarts during uploads and drops 30 % of its events",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.s3Restart;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    const dropEvents = () => fleet.s3("POST", "/faults", { dropEvents: settings.dropEvents });
    await dropEvents();
    // Listen streams count since they connected: count from here, and from 0 after a restart.
    const sums = async () => {
      const { listeners } = await fleet.s3<ListenerStats>("GET", "/listeners");
      return listeners.reduce(
        (sum, listener) => ({
          delivered: sum.delivered + listener.delivered,
          dropped: sum.dropped + listener.dropped,
        }),
        { delivered: 0, dropped: 0 },
      );
    };
    let base = await sums();
    const events = { delivered: 0, dropped: 0 };
    const countEvents = async () => {
      const now = await sums();
      events.delivered += now.delivered - base.delivered;
      events.dropped += now.dropped - base.dropped;
      base = now;
    };

    // Each restart comes once a share of the recordings has been stopped: their egresses are
    // uploading (or about to) when S3 dies.
    const thresholds = Array.from({ length: settings.restarts }, (_, k) =>
      Math.max(1, Math.floor(((k + 1) * settings.recordings) / (settings.restarts + 1))),
    );
    let stops = 0;
    let finished = false;
    const restarts: { at: string; afterStops: number; backAfterMs: number }[] = [];
    const restartErrors: string[] = [];
    const restarter = (async () => {
      for (const threshold of thresholds) {
        while (stops < threshold && !finished) await sleep(20);
        if (finished) break;
        const at = Date.now();
        const afterStops = stops;
        try {
          await countEvents();
          await fleet.restart("s3");
          base = { delivered: 0, dropped: 0 };
          await dropEvents();
        } catch (error) {
          restartErrors.push(`restarting S3: ${(error as Error).message}`);
          break;
        }
        restarts.push({ at: new Date(at).toISOString(), afterStops, backAfterMs: Date.now() - at });
        run.log(`s3 killed and restarted after ${afterStops} stops; back in ${Date.now() - at} ms`);
      }
    })();
    const specs = await run.specs(settings.recordings);
    let outcomes: Awaited<ReturnType<typeof runLifecycle>>[];
    try {
      outcomes = await runPool(specs, settings.concurrency, (spec) =>
        runLifecycle(spec, {
          api: fleet.api,
          watch: run.watch,
          random: run.random.fork(spec.room),
          holdMs: settings.holdMs,
          activeTimeoutMs: profile.settleMs,
          settleMs: profile.settleMs,
          onStopped: () => {
            stops += 1;
          },
        }),
      );
    } finally {
      finished = true;
      await restarter;
    }
    await countEvents();
    await fleet.s3("DELETE", "/faults");

    const egresses = await egressViews(fleet);
    const uploadOf = new Map(egresses.map((egress) => [egress.recordingId, egress.upload]));
    const expectations: Expectation[] = outcomes
      .filter((outcome) => outcome.id !== undefined)
      .map((outcome) => {
        const id = outcome.id ?? "";
        const base = { id, room: outcome.spec.room };
        if (uploadOf.get(id) !== "failed") return { ...base, accept: [{ status: "notified" }] };
        // The PUT may have been stored before S3 died and its answer lost: then the file is in
        // the bucket and the recording rightly completes; otherwise egress failed it.
        return {
          ...base,
          accept: [{ status: "failed", code: "egress_failed", failureEmail: true }, { status: "notified" }],
          why: "its upload failed while S3 was down",
        };
      });

    run.faults.restarts = restarts;
    run.faults.dropEvents = settings.dropEvents;
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    run.metrics.restarts = restarts.length;
    run.metrics.uploadsFailed = expectations.filter((expected) => expected.accept.length > 1).length;
    if (run.metrics.uploadsFailed > 0) {
      run.notes.push(
        `${run.metrics.uploadsFailed} upload(s) hit the dead S3; the egress emulator uploads once (real egress retries), so their egress failed`,
      );
    }
    run.metrics.eventsDelivered = events.delivered;
    run.metrics.eventsDropped = events.dropped;
    for (const [name, pattern] of DETECTION) {
      run.metrics[`detectedBy_${name}`] = outcomes.filter((outcome) =>
        outcome.final?.timeline.some((entry) => entry.status === "saved" && pattern.test(entry.reason)),
      ).length;
    }
    const health = await fetch(
      fleet.test.info.health["storage-listener"]?.replace(/readyz$/, "healthz") ?? "",
    );
    const listener = ((await health.json()) as { listener?: { reconnects?: number } }).listener;
    run.metrics.listenerReconnects = listener?.reconnects ?? -1;
    const listening: string[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { listeners } = await fleet.s3<ListenerStats>("GET", "/listeners");
      if (listeners.length > 0) break;
      if (Date.now() > deadline) {
        listening.push("no listen stream is connected to S3 15 s after the last restart");
        break;
      }
      await sleep(250);
    }
    run.addCheck("the storage listener listens again after every restart", listening, "listening");
    run.addCheck(
      "S3 was restarted during the run",
      restarts.length === settings.restarts
        ? []
        : [`${restarts.length} of ${settings.restarts} restarts happened`],
      `${restarts.length} restart(s)`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectations);
  },
};
