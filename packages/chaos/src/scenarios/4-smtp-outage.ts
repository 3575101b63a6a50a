import { settle, sleep, startAll, stopRecording } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, expectNotified, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

interface SmtpFaults {
  triggered: { transientFailures: number };
}

const DEFERRED = "email not delivered yet";
/** Every message is answered 451 while this many are armed: for the outage, that is all of them. */
const ALL_MESSAGES = 1_000_000;

/**
 * The SMTP server answers `451 4.3.0 Try again later` to every message for a while (the whole
 * message is sent, then refused), then is healthy again. Each ready email must be deferred
 * (a timeline note, no attempt spent) and delivered exactly once after the outage.
 */
export const smtpOutage: Scenario = {
  name: "smtp-outage",
  title: "SMTP answers 451 for a while, then is healthy",
  behaviour: "every email is delivered exactly once after the SMTP server answered 451 for a while",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.smtpOutage;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    const { api } = fleet;
    const { watch } = run;
    const outcomes = await startAll(await run.specs(settings.recordings), api, watch, profile.settleMs);
    const live = outcomes.filter((outcome) => outcome.id && outcome.activeAt && !outcome.error);

    await fleet.smtp("POST", "/faults", { failNext: ALL_MESSAGES });
    const start = Date.now();
    run.log(`SMTP answers 451 from now on; stopping ${live.length} recordings`);
    await Promise.all(
      live.map(async (outcome) => {
        outcome.stopSentAt = Date.now();
        try {
          await stopRecording(api, outcome.id ?? "", profile.settleMs, outcome.stopStatuses);
          // Saved: its email is being refused now.
          await watch.waitFor(
            outcome.id ?? "",
            (r) => r.status !== "stopping" && r.status !== "stopped" && r.status !== "active",
            profile.settleMs,
            "saved",
          );
        } catch (error) {
          outcome.error = (error as Error).message;
        }
      }),
    );
    run.log(`all saved after ${Date.now() - start} ms; the outage goes on`);
    await sleep(start + settings.outageMs - Date.now());
    const { triggered } = await fleet.smtp<SmtpFaults>("GET", "/faults");
    // Until the DELETE is sent the fault is surely on: no email may be accepted before then.
    const healing = Date.now();
    await fleet.smtp("DELETE", "/faults");
    const end = Date.now();
    run.log(`SMTP healthy again after ${end - start} ms (${triggered.transientFailures} messages refused)`);
    for (const outcome of live) await settle(outcome, watch, profile.settleMs);

    run.faults.smtpOutage = { start: new Date(start).toISOString(), ms: end - start };
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    run.metrics.refusedWith451 = triggered.transientFailures;
    const deferred = live.filter((outcome) =>
      outcome.final?.timeline.some((entry) => entry.reason.startsWith(DEFERRED)),
    );
    run.metrics.deferredRecordings = deferred.length;
    run.metrics.deferralsPerRecordingMax = Math.max(
      0,
      ...live.map(
        (outcome) => outcome.final?.timeline.filter((entry) => entry.reason.startsWith(DEFERRED)).length ?? 0,
      ),
    );
    run.metrics.lastNotifiedAfterOutageMs = Math.max(
      0,
      ...live.map((outcome) => (outcome.finalAt ?? end) - end),
    );
    const deliveredDuringOutage = live.filter((outcome) =>
      outcome.final?.timeline.some((entry) => entry.status === "notified" && Date.parse(entry.at) < healing),
    );
    run.addCheck(
      "emails were deferred during the outage and delivered only after it",
      [
        ...(triggered.transientFailures > 0 ? [] : ["no message was refused: the outage was not exercised"]),
        ...deliveredDuringOutage.map((outcome) => `${outcome.id}: emailed while the server answered 451`),
      ],
      `${deferred.length} recordings deferred, ${triggered.transientFailures} messages refused with 451`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectNotified(outcomes));
  },
};
