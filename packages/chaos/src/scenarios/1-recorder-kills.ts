import { runLifecycle, runPool, sleep } from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, expectNotified, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

/**
 * Recorders die with SIGKILL at random while recordings start and stop. Egress answers Start a
 * little late, so some kills land while a Start is in flight: the start lease and the adoption
 * of the running egress must keep every recording to one egress, and stalled jobs must be
 * picked up by the surviving recorders.
 */
export const recorderKills: Scenario = {
  name: "recorder-kills",
  title: "recorders killed with SIGKILL during recordings",
  behaviour:
    "every recording completes with one egress and one email while recorders are killed with SIGKILL",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.recorderKills;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    await fleet.livekit("/faults", { startLatencyMs: settings.startLatencyMs });
    const kills: { at: string; names: string[]; backAfterMs: number }[] = [];
    let working = true;
    const killRandom = run.random.fork("kills");
    const killErrors: string[] = [];
    const killer = (async () => {
      while (working && kills.length < settings.kills) {
        await sleep(killRandom.int(settings.killGapMs[0], settings.killGapMs[1]));
        if (!working) break;
        const first = killRandom.pick(fleet.recorders);
        const names = killRandom.chance(settings.doubleKillChance)
          ? [first, killRandom.pick(fleet.recorders.filter((name) => name !== first))]
          : [first];
        const at = Date.now();
        try {
          // Two down at once: the second is frozen first (it holds its jobs and answers nothing,
          // like a dead process) and killed once the first is back.
          if (names[1]) fleet.freeze(names[1]);
          for (const name of names) await fleet.restart(name);
        } catch (error) {
          killErrors.push(`killing ${names.join(" + ")}: ${(error as Error).message}`);
          break;
        }
        kills.push({ at: new Date(at).toISOString(), names, backAfterMs: Date.now() - at });
        run.log(`SIGKILL ${names.join(" + ")}; back in ${Date.now() - at} ms`);
      }
    })();
    // The egress request log holds 10,000 entries: read it as the run goes so no Start is missed.
    const collector = setInterval(() => void run.startLog.poll().catch(() => undefined), 10_000);
    const specs = await run.specs(settings.recordings);
    // Recordings are spread over the time the kills take, so that every kill lands among
    // recordings starting, recording and stopping.
    const meanGapMs = (settings.killGapMs[0] + settings.killGapMs[1]) / 2;
    const spacingMs = Math.max(50, Math.round((settings.kills * (meanGapMs + 1000)) / settings.recordings));
    run.metrics.createEveryMs = spacingMs;
    const begun = Date.now();
    let outcomes: Awaited<ReturnType<typeof runLifecycle>>[];
    try {
      outcomes = await runPool(specs, settings.concurrency, async (spec, index) => {
        await sleep(begun + index * spacingMs - Date.now());
        const outcome = await runLifecycle(spec, {
          api: fleet.api,
          watch: run.watch,
          random: run.random.fork(spec.room),
          holdMs: settings.holdMs,
          activeTimeoutMs: profile.settleMs,
          settleMs: profile.settleMs,
        });
        if ((index + 1) % 20 === 0) run.log(`${index + 1}/${specs.length} recordings done`);
        return outcome;
      });
    } finally {
      working = false;
      clearInterval(collector);
      await killer;
      await fleet.livekit("/faults", { startLatencyMs: 0 });
    }

    run.faults.kills = kills;
    run.metrics.kills = kills.length;
    run.metrics.processesKilled = kills.reduce((sum, kill) => sum + kill.names.length, 0);
    Object.assign(run.metrics, lifecycleMetrics(outcomes));
    const adopted = outcomes.filter((outcome) =>
      outcome.final?.timeline.some((entry) => entry.reason.startsWith("adopted egress")),
    ).length;
    run.metrics.adoptedEgresses = adopted;
    run.addCheck("every recording was driven to its end", driverProblems(outcomes), "no driver error");
    run.addCheck(
      "recorders were killed during the run",
      [
        ...killErrors,
        ...(kills.length > 0 ? [] : ["no recorder was killed: the run ended before the first kill"]),
      ],
      `${kills.length} kill(s)`,
    );
    const result = await run.finish(expectNotified(outcomes));
    const clientGone = run.startLog.starts.filter((start) => start.clientGone).length;
    result.metrics.startsAnsweredToADeadRecorder = clientGone;
    return result;
  },
};
