import {
  type LifecycleOutcome,
  type RecordingSpec,
  runLifecycle,
  runPool,
  settle,
  sleep,
  startAll,
  stopRecording,
} from "../driver.ts";
import type { ChaosFleet } from "../fleet.ts";
import type { Profile } from "../profile.ts";
import { driverProblems, expectNotified, lifecycleMetrics, type Scenario, ScenarioRun } from "../scenario.ts";

interface Probe {
  at: number;
  status: number;
  ms: number;
  retryAfter: string | null;
  error?: string;
}

/** Longest a request may take while Redis is away: the API gives each Redis step ~3 s. */
const MAX_ANSWER_MS = 15_000;

/**
 * Redis hangs (SIGSTOP: connections stay open, nothing answers) for a while, then is killed and
 * restarted from its append-only file, while recordings are being created, recorded, stopped,
 * uploaded and emailed. The API must answer 503 with Retry-After meanwhile (never hang, never
 * 500), clients retrying with the same Idempotency-Key must end with one recording per room, and
 * every recording must complete once Redis is back.
 */
export const redisRestart: Scenario = {
  name: "redis-restart",
  title: "Redis hangs, then is killed and restarted from its AOF, mid-run",
  behaviour:
    "the API answers 503 with Retry-After while Redis is away, and every recording completes after it restarts",
  async run(fleet: ChaosFleet, profile: Profile) {
    const settings = profile.redisRestart;
    const run = new ScenarioRun(fleet, profile, this.name, this.title);
    await run.begin();
    const { api } = fleet;
    const { watch } = run;
    const specs = await run.specs(settings.recordings);
    // Everything recording before the first outage.
    const outcomes = await startAll(specs, api, watch, profile.settleMs);
    run.log(`${outcomes.filter((o) => o.activeAt).length} recordings active`);

    const probeId = outcomes.find((outcome) => outcome.id)?.id ?? "00000000-0000-7000-8000-000000000000";
    const probes: Probe[] = [];
    let probing = true;
    // Two probes a little apart, each answered within ~2 s even while Redis hangs.
    const probe = async (offsetMs: number) => {
      await sleep(offsetMs);
      while (probing) {
        const at = Date.now();
        try {
          const answer = await api.request("GET", `/v1/recordings/${probeId}`, { timeoutMs: 30_000 });
          probes.push({
            at,
            status: answer.status,
            ms: answer.ms,
            retryAfter: answer.headers.get("retry-after"),
          });
        } catch (error) {
          probes.push({
            at,
            status: 0,
            ms: Date.now() - at,
            retryAfter: null,
            error: (error as Error).message,
          });
        }
        await sleep(250);
      }
    };
    const prober = Promise.all([probe(0), probe(700)]);

    const slices = Array.from({ length: settings.outages + 1 }, (_, k) =>
      outcomes.filter((_, i) => i % (settings.outages + 1) === k),
    );
    const stopSlice = (slice: LifecycleOutcome[]) =>
      Promise.all(
        slice
          .filter((outcome) => outcome.id && outcome.activeAt)
          .map(async (outcome) => {
            outcome.stopSentAt = Date.now();
            try {
              await stopRecording(api, outcome.id ?? "", profile.settleMs, outcome.stopStatuses);
            } catch (error) {
              outcome.error = (error as Error).message;
            }
          }),
      );
    const extras: Promise<LifecycleOutcome>[] = [];
    const extraSpecs = await run.specs(settings.createsDuringOutage, "during");
    const perOutage = Math.ceil(extraSpecs.length / settings.outages);
    const lifecycle = (spec: RecordingSpec) =>
      runLifecycle(spec, {
        api,
        watch,
        random: run.random.fork(spec.room),
        holdMs: [500, 1500],
        activeTimeoutMs: profile.settleMs,
        settleMs: profile.settleMs,
      });

    let all: LifecycleOutcome[];
    try {
      for (let k = 0; k < settings.outages; k += 1) {
        await stopSlice(slices[k] ?? []);
        // New recordings asked for from just before the hang until its end.
        const batch = extraSpecs.slice(k * perOutage, (k + 1) * perOutage);
        batch.forEach((spec, i) => {
          extras.push(sleep((i * settings.outageMs) / Math.max(1, batch.length)).then(() => lifecycle(spec)));
        });
        await sleep(300);
        const pid = await fleet.redisPid();
        const start = Date.now();
        process.kill(pid, "SIGSTOP");
        run.log(`redis (pid ${pid}) frozen`);
        await sleep(settings.outageMs);
        await fleet.restart("redis");
        const end = Date.now();
        run.outages.push({ what: `Redis outage ${k + 1}`, start, end });
        run.log(`redis killed and restarted from its AOF; outage lasted ${end - start} ms`);
        if (k + 1 < settings.outages) await sleep(5000);
      }
      await stopSlice(slices[settings.outages] ?? []);
      for (const outcome of outcomes) await settle(outcome, watch, profile.settleMs);
      all = [...outcomes, ...(await Promise.all(extras))];
    } finally {
      probing = false;
    }
    await prober;

    run.faults.outages = run.outages.map((outage) => ({
      start: new Date(outage.start).toISOString(),
      ms: outage.end - outage.start,
    }));
    Object.assign(run.metrics, lifecycleMetrics(all));
    const during = (probe: Probe) =>
      run.outages.some((outage) => probe.at >= outage.start - 500 && probe.at <= outage.end + 5000);
    const outageProbes = probes.filter(during);
    run.metrics.probes = probes.length;
    run.metrics.probes503 = probes.filter((probe) => probe.status === 503).length;
    run.metrics.probeMaxMs = Math.max(0, ...probes.map((probe) => probe.ms));
    run.metrics.createRetries = all.reduce(
      (sum, outcome) => sum + Math.max(0, outcome.createStatuses.length - 1),
      0,
    );
    run.metrics.createAnswers503 = all.reduce(
      (sum, outcome) => sum + outcome.createStatuses.filter((status) => status === 503).length,
      0,
    );

    const probeProblems: string[] = [];
    for (const probe of probes) {
      const when = new Date(probe.at).toISOString();
      if (probe.status === 0) probeProblems.push(`${when}: no answer (${probe.error})`);
      else if (probe.status !== 200 && probe.status !== 503)
        probeProblems.push(`${when}: answered ${probe.status}`);
      else if (probe.status === 503 && !/^\d+$/.test(probe.retryAfter ?? ""))
        probeProblems.push(`${when}: 503 without a Retry-After (${probe.retryAfter})`);
      else if (probe.status === 503 && !during(probe)) probeProblems.push(`${when}: 503 while Redis was up`);
      if (probe.ms > MAX_ANSWER_MS) probeProblems.push(`${when}: answered after ${probe.ms} ms`);
    }
    for (const outage of run.outages) {
      const seen = outageProbes.filter((p) => p.at >= outage.start && p.at <= outage.end && p.status === 503);
      if (seen.length === 0) probeProblems.push(`${outage.what}: no 503 seen while Redis was away`);
    }
    run.addCheck(
      "the API answers 503 with Retry-After while Redis is away, and never hangs",
      probeProblems,
      `${run.metrics.probes503} × 503 with Retry-After among ${probes.length} probes; slowest ${run.metrics.probeMaxMs} ms`,
    );
    const roomProblems: string[] = [];
    await runPool(all, 8, async (outcome) => {
      const answer = await api.request<{ items: { id: string }[] }>(
        "GET",
        `/v1/recordings?room=${encodeURIComponent(outcome.spec.room)}`,
      );
      const count = answer.body?.items.length ?? -1;
      if (count !== 1)
        roomProblems.push(`room ${outcome.spec.room} has ${count} recordings (answer ${answer.status})`);
    });
    run.addCheck(
      "retried creates leave exactly one recording per room",
      roomProblems,
      `${all.length} rooms, one recording each`,
    );
    run.addCheck("every recording was driven to its end", driverProblems(all), "no driver error");
    return run.finish(expectNotified(all));
  },
};
