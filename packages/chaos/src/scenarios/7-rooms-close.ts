import { type LifecycleOutcome, runLifecycle, runPool, specsFor } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Expectation } from "../invariants.ts";
import type { Profile } from "../profile.ts";
import { Rooms } from "../rooms.ts";
import { driverProblems, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

const EGRESS_TIMEOUT_MS = 30_000;

/**
 * Meetings end without anyone stopping the recording: the room is closed (DeleteRoom, as when
 * the last person leaves) while it records, or while its egress still waits for somebody to
 * share a track. Egress ends its source the way the real one does: a recording one finishes and
 * uploads its file, a waiting one aborts ("Source closed").
 */
export const roomsClose: Scenario = {
  name: "rooms-close",
  title: "rooms that close while recording, or while the egress waits for a speaker",
  behaviour:
    "a room that closes mid-recording ends it normally, saved and emailed; one that closes before anyone shared cancels its recording",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.roomsClose;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    const rooms = new Rooms(fleet);
    await run.begin();
    const recording = await run.specs(settings.whileRecording, "recording");
    const waiting = specsFor(`${run.roomPrefix}-waiting`, settings.whileWaiting);
    for (const spec of waiting) await rooms.join(spec, { publishing: false });
    const waitingRooms = new Set(waiting.map((spec) => spec.room));
    const closedAt = new Map<string, number>();

    const all = [...recording, ...waiting];
    const outcomes: LifecycleOutcome[] = await runPool(all, all.length, (spec) =>
      runLifecycle(spec, {
        api: fleet.api,
        watch: run.watch,
        random: run.random.fork(spec.room),
        holdMs: settings.holdMs,
        activeTimeoutMs: profile.settleMs,
        settleMs: profile.settleMs,
        onCreated: async (id) => {
          if (!waitingRooms.has(spec.room)) return;
          // The egress exists and waits for its start signal: then everyone leaves.
          await run.untilEgress(id, EGRESS_TIMEOUT_MS);
          await rooms.close(spec);
          closedAt.set(id, Date.now());
        },
        endRecording: async (id) => {
          await rooms.close(spec);
          closedAt.set(id, Date.now());
        },
      }),
    );

    const expectations: Expectation[] = outcomes
      .filter((outcome): outcome is LifecycleOutcome & { id: string } => outcome.id !== undefined)
      .map((outcome) =>
        waitingRooms.has(outcome.spec.room)
          ? {
              id: outcome.id,
              room: outcome.spec.room,
              accept: [{ status: "cancelled" }],
              why: "its room closed before anybody shared a track: nothing was recorded",
            }
          : { id: outcome.id, room: outcome.spec.room, accept: [{ status: "notified" }] },
      );
    run.addCheck(
      "every room was closed, none stopped through the API",
      outcomes
        .filter((outcome) => outcome.id && !closedAt.has(outcome.id))
        .map(
          (outcome) => `${outcome.id} (${outcome.spec.room}) was not closed: ${outcome.final?.status ?? "?"}`,
        ),
      `${closedAt.size} rooms closed`,
    );
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    const closeToFinal = outcomes
      .filter((outcome) => outcome.id && outcome.finalAt && closedAt.has(outcome.id))
      .map((outcome) => (outcome.finalAt ?? 0) - (closedAt.get(outcome.id ?? "") ?? 0));
    run.metrics.closeToFinalMaxMs = Math.max(0, ...closeToFinal);
    run.faults.closedWhileRecording = recording.length;
    run.faults.closedWhileWaiting = waiting.length;
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectations);
  },
};
