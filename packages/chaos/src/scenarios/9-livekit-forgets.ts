import { hasWaitNote, isFinal } from "@recfleet/recordings";
import { runPool, settle, sleep, specsFor, startAll, stopRecording } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Profile } from "../profile.ts";
import { Rooms } from "../rooms.ts";
import { driverProblems, expectNotified, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

const NOTE_TIMEOUT_MS = 30_000;

/**
 * LiveKit loses every egress record (its Redis emptied) while some recordings record and others'
 * egresses wait for a speaker, and again while files upload. LiveKit then answers 404 for those
 * egresses, yet they keep running: they report (and are stored) again at their next change, and
 * StopEgress still reaches them. recfleet must take the 404 for what it is — not proof that the
 * egress ended — and lose nothing: every recording is saved and emailed once.
 */
export const livekitForgets: Scenario = {
  name: "livekit-forgets",
  title: "LiveKit loses every egress record while recordings record, wait and upload",
  behaviour:
    "every recording is saved and emailed once after LiveKit forgot all its egresses, twice, mid-recording",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.livekitAmnesia;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    const rooms = new Rooms(fleet);
    await run.begin();
    const recording = await run.specs(settings.recording, "recording");
    const waiting = specsFor(`${run.roomPrefix}-waiting`, settings.waiting);
    for (const spec of waiting) await rooms.join(spec, { publishing: false });

    const active = await startAll(recording, fleet.api, run.watch, profile.settleMs);
    const waitingOutcomes = await startAll(waiting, fleet.api, run.watch, profile.settleMs, "egress");
    run.log(`${active.length} recordings record, ${waitingOutcomes.length} egresses wait for a speaker`);

    await run.rememberEgresses();
    const forgotten = await fleet.livekit<{ forgotten: number }>("/egresses/forget", { all: true });
    run.log(`LiveKit forgot ${forgotten.forgotten} egresses`);
    const all = [...active, ...waitingOutcomes];
    const ids = all.flatMap((outcome) => (outcome.id ? [outcome.id] : []));
    // The reconciler has met the 404 for every one of them before anything else happens.
    const noticed = await Promise.allSettled(
      ids.map((id) => run.untilNoted(id, "unknownEgress", NOTE_TIMEOUT_MS)),
    );
    const unnoticed = noticed.flatMap((result, i) => (result.status === "rejected" ? [ids[i] ?? "?"] : []));

    // Speakers share at last: the waiting egresses begin recording and report again.
    for (const outcome of waitingOutcomes) await rooms.publish(outcome.spec);
    await runPool(waitingOutcomes, waitingOutcomes.length, async (outcome) => {
      if (!outcome.id || outcome.error) return;
      try {
        await run.watch.waitFor(
          outcome.id,
          (r) => r.status === "active" || isFinal(r.status),
          profile.settleMs,
          "active",
        );
        outcome.activeAt = Date.now();
      } catch (error) {
        outcome.error = (error as Error).message;
      }
    });

    // Every recording is stopped after a hold; LiveKit forgets everything once more meanwhile.
    const stopper = runPool(all, all.length, async (outcome) => {
      if (!outcome.id || outcome.error) return;
      const random = run.random.fork(outcome.spec.room);
      await sleep(random.int(settings.holdMs[0], settings.holdMs[1]));
      try {
        outcome.stopSentAt = Date.now();
        await stopRecording(fleet.api, outcome.id, profile.settleMs, outcome.stopStatuses);
      } catch (error) {
        outcome.error = (error as Error).message;
      }
      await settle(outcome, run.watch, profile.settleMs);
    });
    await sleep(settings.holdMs[0]);
    await run.rememberEgresses();
    const forgottenAgain = (await fleet.livekit<{ forgotten: number }>("/egresses/forget", { all: true }))
      .forgotten;
    run.log(`LiveKit forgot ${forgottenAgain} egresses again, while recordings stop`);
    await stopper;

    run.faults.forgotten = forgotten.forgotten;
    run.faults.forgottenAgain = forgottenAgain;
    Object.assign(run.metrics, lifecycleMetrics(all));
    run.metrics.unknownEgressNoted = all.filter(
      (outcome) => outcome.final && hasWaitNote(outcome.final, "unknownEgress"),
    ).length;
    run.addCheck(
      "the reconciler met LiveKit's 404 for every egress and kept its recording",
      [
        ...(forgotten.forgotten >= ids.length
          ? []
          : [`LiveKit forgot ${forgotten.forgotten} of ${ids.length} egresses`]),
        ...unnoticed.map((id) => `${id} was never noted as unknown to LiveKit`),
      ],
      `${ids.length} recordings noted, none given up`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(all), "no driver error");
    return run.finish(expectNotified(all));
  },
};
