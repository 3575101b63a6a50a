import { hasWaitNote } from "@recfleet/recordings";
import { type LifecycleOutcome, runLifecycle, runPool, sleep, specsFor } from "../driver.ts";
import { egressViews } from "../evidence.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Expectation } from "../invariants.ts";
import type { Profile } from "../profile.ts";
import { Rooms } from "../rooms.ts";
import { driverProblems, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

const NOTE_TIMEOUT_MS = 30_000;

function spread(values: number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
}

/**
 * LiveKit as meetings really use it: recordings asked for before their room exists (it opens
 * only once the recording is seen waiting for it), egresses that wait for somebody to share a
 * track (shared only once the egress is seen waiting), rooms that never open, and rooms where
 * somebody sits and nobody ever shares anything.
 */
export const lateRooms: Scenario = {
  name: "late-rooms",
  title: "rooms that open late, speakers who share late, rooms that never open or stay silent",
  behaviour:
    "recordings wait for their room and for someone to publish, then record; a room that never opens fails room_not_found and a silent one no_start_signal, its egress stopped",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.lateRooms;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    const rooms = new Rooms(fleet);
    await run.begin();
    const late = specsFor(`${run.roomPrefix}-late`, settings.lateRooms);
    const sharing = specsFor(`${run.roomPrefix}-share`, settings.latePublishers);
    const never = specsFor(`${run.roomPrefix}-never`, settings.neverOpened).map((spec) => ({
      ...spec,
      roomWaitSeconds: settings.roomWaitSeconds,
    }));
    const silent = specsFor(`${run.roomPrefix}-silent`, settings.silentRooms);
    for (const spec of [...sharing, ...silent]) await rooms.join(spec, { publishing: false });

    const roomOpenedAt = new Map<string, number>();
    const sharedAt = new Map<string, number>();
    const stillStartingWhenShared: string[] = [];
    const all = [...late, ...sharing, ...never, ...silent];
    const kindOf = new Map<string, "late" | "sharing" | "never" | "silent">();
    for (const spec of late) kindOf.set(spec.room, "late");
    for (const spec of sharing) kindOf.set(spec.room, "sharing");
    for (const spec of never) kindOf.set(spec.room, "never");
    for (const spec of silent) kindOf.set(spec.room, "silent");

    const outcomes: LifecycleOutcome[] = await runPool(all, all.length, (spec) => {
      const random = run.random.fork(spec.room);
      const kind = kindOf.get(spec.room);
      return runLifecycle(spec, {
        api: fleet.api,
        watch: run.watch,
        random,
        holdMs: settings.holdMs,
        activeTimeoutMs: profile.settleMs,
        settleMs: profile.settleMs,
        onCreated: async (id) => {
          if (kind === "late") {
            await run.untilNoted(id, "room", NOTE_TIMEOUT_MS);
            await sleep(random.int(settings.lateByMs[0], settings.lateByMs[1]));
            await rooms.join(spec, { publishing: true });
            roomOpenedAt.set(id, Date.now());
          } else if (kind === "sharing") {
            await run.untilEgress(id, NOTE_TIMEOUT_MS);
            await sleep(random.int(settings.lateByMs[0], settings.lateByMs[1]));
            if (run.watch.latest.get(id)?.status !== "starting") stillStartingWhenShared.push(id);
            await rooms.publish(spec);
            sharedAt.set(id, Date.now());
          }
        },
      });
    });

    const expectations: Expectation[] = outcomes
      .filter((outcome): outcome is LifecycleOutcome & { id: string } => outcome.id !== undefined)
      .map((outcome) => {
        const { id } = outcome;
        const room = outcome.spec.room;
        switch (kindOf.get(room)) {
          case "never":
            return {
              id,
              room,
              accept: [{ status: "failed", code: "room_not_found", failureEmail: true }],
              why: `its room never opened within the ${settings.roomWaitSeconds} s it asked to wait`,
            };
          case "silent":
            return {
              id,
              room,
              accept: [{ status: "failed", code: "no_start_signal", failureEmail: true }],
              why: "nobody in its room ever shared a track",
            };
          default:
            return { id, room, accept: [{ status: "notified" }] };
        }
      });

    const ids = new Set(expectations.map((expected) => expected.id));
    const silentIds = new Set(
      outcomes.filter((outcome) => kindOf.get(outcome.spec.room) === "silent").map((outcome) => outcome.id),
    );
    const egresses = (await egressViews(fleet)).filter((egress) => ids.has(egress.recordingId ?? ""));
    run.addCheck(
      "a silent room's egress was stopped, not left waiting",
      egresses
        .filter((egress) => silentIds.has(egress.recordingId ?? "") && egress.status !== "EGRESS_ABORTED")
        .map(
          (egress) => `${egress.egressId} of ${egress.recordingId} is ${egress.status}, not EGRESS_ABORTED`,
        ),
      `${silentIds.size} egress(es) aborted`,
    );
    run.addCheck(
      "every late speaker shared while the egress still waited",
      stillStartingWhenShared.map((id) => `${id} was no longer starting when its first track came`),
      `${sharedAt.size} egress(es) waited for their start signal`,
    );
    const activeAfter = (opened: Map<string, number>) =>
      spread(
        outcomes
          .filter((outcome) => outcome.id && outcome.activeAt && opened.has(outcome.id))
          .map((outcome) => (outcome.activeAt ?? 0) - (opened.get(outcome.id ?? "") ?? 0)),
      );
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    const roomToActive = activeAfter(roomOpenedAt);
    const shareToActive = activeAfter(sharedAt);
    run.metrics.roomOpenedToActiveP50Ms = roomToActive.p50;
    run.metrics.roomOpenedToActiveMaxMs = roomToActive.max;
    run.metrics.sharedToActiveP50Ms = shareToActive.p50;
    run.metrics.sharedToActiveMaxMs = shareToActive.max;
    run.metrics.publisherWaitNoted = outcomes.filter(
      (outcome) =>
        outcome.final && kindOf.get(outcome.spec.room) !== "late" && hasWaitNote(outcome.final, "publisher"),
    ).length;
    run.faults.lateRooms = late.length;
    run.faults.lateSpeakers = sharing.length;
    run.faults.neverOpened = never.length;
    run.faults.silentRooms = silent.length;
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    return run.finish(expectations, (job, evidence) => {
      const recording = job.recordingId ? evidence.recordings[job.recordingId] : undefined;
      return job.name === "start" && recording?.errorCode === "room_not_found"
        ? "its room never opened: the start job fails with its recording (room_not_found)"
        : undefined;
    });
  },
};
