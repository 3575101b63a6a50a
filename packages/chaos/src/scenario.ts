import { hasWaitNote, isFinal, type Recording, WAIT_NOTES, type WaitNote } from "@recfleet/recordings";
import { type LifecycleOutcome, type RecordingSpec, specsFor } from "./driver.ts";
import { type EvidenceWindow, gatherEvidence, openWindow, rememberEgresses } from "./evidence.ts";
import { type ChaosFleet, MAIL_DOMAIN } from "./fleet.ts";
import {
  type Check,
  type EvaluationOptions,
  type Evidence,
  type Expectation,
  type ExplainedJob,
  evaluate,
  type FaultWindow,
  type JobView,
  type Tally,
} from "./invariants.ts";
import type { Profile } from "./profile.ts";
import { Random } from "./random.ts";
import { RecordingWatch } from "./watch.ts";

export interface ScenarioResult {
  name: string;
  title: string;
  profile: Profile["name"];
  seed: number;
  startedAt: string;
  durationMs: number;
  passed: boolean;
  checks: Check[];
  tally: Tally;
  failedJobs: ExplainedJob[];
  /** What was injected, when. */
  faults: Record<string, unknown>;
  /** Scenario-specific measurements (latencies, answers seen, detection sources …). */
  metrics: Record<string, number | string>;
  notes: string[];
  logsDir: string;
}

/** One fault-injection scenario: it drives the fleet, injects its faults and checks the invariants. */
export interface Scenario {
  name: string;
  title: string;
  /** What must hold, as a sentence (the CI test's name). */
  behaviour: string;
  run(fleet: ChaosFleet, profile: Profile): Promise<ScenarioResult>;
}

/** Per-recording figures worth reporting: how long recordings took, and how many did not finish. */
export function lifecycleMetrics(outcomes: LifecycleOutcome[]): Record<string, number> {
  const settle = outcomes
    .filter((outcome) => outcome.finalAt !== undefined && outcome.stopSentAt !== undefined)
    .map((outcome) => (outcome.finalAt ?? 0) - (outcome.stopSentAt ?? 0))
    .sort((a, b) => a - b);
  const at = (q: number) => settle[Math.min(settle.length - 1, Math.floor(q * settle.length))] ?? 0;
  return {
    driven: outcomes.length,
    driverErrors: outcomes.filter((outcome) => outcome.error).length,
    stopToFinalP50Ms: at(0.5),
    stopToFinalP95Ms: at(0.95),
    stopToFinalMaxMs: settle.at(-1) ?? 0,
  };
}

/**
 * The common frame of a scenario run: its own random stream (forked from the profile's seed by
 * scenario name), room names unique to this run, a watch over its recordings, the fault windows
 * it opened, and the final evaluation of the invariants.
 */
export class ScenarioRun {
  readonly fleet: ChaosFleet;
  readonly profile: Profile;
  readonly name: string;
  readonly title: string;
  readonly random: Random;
  readonly roomPrefix: string;
  readonly watch: RecordingWatch;
  readonly outages: FaultWindow[] = [];
  readonly faults: Record<string, unknown> = {};
  readonly metrics: Record<string, number | string> = {};
  readonly notes: string[] = [];
  readonly extraChecks: Check[] = [];
  private readonly started = Date.now();
  private window: EvidenceWindow | undefined;

  constructor(fleet: ChaosFleet, profile: Profile, name: string, title: string) {
    this.fleet = fleet;
    this.profile = profile;
    this.name = name;
    this.title = title;
    this.random = new Random(profile.seed).fork(name);
    this.roomPrefix = `chaos-${name}-${this.started.toString(36)}`;
    this.watch = new RecordingWatch(fleet.store);
  }

  /**
   * `count` recordings of new rooms (`<roomPrefix>[-<part>]-<i>`), each room opened in the
   * LiveKit emulator with someone publishing: a meeting under way, as LiveKit needs it.
   */
  async specs(count: number, part?: string): Promise<RecordingSpec[]> {
    const specs = specsFor(part ? `${this.roomPrefix}-${part}` : this.roomPrefix, count);
    for (const spec of specs) await this.fleet.test.openRoom(spec.room);
    return specs;
  }

  /** Waits until the recording's timeline says it waits for `note` (or it ended). */
  async untilNoted(id: string, note: WaitNote, timeoutMs: number): Promise<Recording> {
    return this.watch.waitFor(
      id,
      (recording) => hasWaitNote(recording, note) || isFinal(recording.status),
      timeoutMs,
      `noted "${WAIT_NOTES[note]}"`,
    );
  }

  /** Waits until the recorder has stored the recording's egress (or it ended). */
  async untilEgress(id: string, timeoutMs: number): Promise<Recording> {
    return this.watch.waitFor(
      id,
      (recording) => recording.egressId !== null || isFinal(recording.status),
      timeoutMs,
      "given an egress",
    );
  }

  /** Marks where the evidence starts (request log position, API log offset). */
  async begin(): Promise<void> {
    this.window = await openWindow(this.fleet);
  }

  /** Notes every egress now, so that the evidence still holds those LiveKit purges later. */
  async rememberEgresses(): Promise<void> {
    if (!this.window) throw new Error("begin() first");
    await rememberEgresses(this.fleet, this.window);
  }

  get startLog() {
    if (!this.window) throw new Error("begin() first");
    return this.window.starts;
  }

  log(message: string): void {
    if (process.env.CHAOS_QUIET) return;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[chaos ${this.name} +${seconds}s] ${message}\n`);
  }

  addCheck(name: string, problems: string[], ok: string): void {
    this.extraChecks.push({
      name,
      passed: problems.length === 0,
      summary: problems.length === 0 ? ok : `${problems.length} problem(s)`,
      problems,
    });
  }

  async finish(
    expectations: Expectation[],
    explainFailedJob?: (job: JobView, evidence: Evidence) => string | undefined,
  ): Promise<ScenarioResult> {
    if (!this.window) throw new Error("begin() first");
    this.watch.close();
    const evidence = await gatherEvidence(
      this.fleet,
      expectations.map((expected) => expected.id),
      this.window,
      this.profile.drainMs,
    );
    const options: EvaluationOptions = { mailDomain: MAIL_DOMAIN, outages: this.outages };
    if (explainFailedJob) options.explainFailedJob = explainFailedJob;
    const evaluation = evaluate(expectations, evidence, options);
    const checks = [...evaluation.checks, ...this.extraChecks];
    this.metrics.drainMs = evidence.drainedMs;
    this.metrics.evidenceMs = evidence.gatheredMs;
    return {
      name: this.name,
      title: this.title,
      profile: this.profile.name,
      seed: this.profile.seed,
      startedAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
      passed: checks.every((check) => check.passed),
      checks,
      tally: evaluation.tally,
      failedJobs: evaluation.failedJobs,
      faults: this.faults,
      metrics: this.metrics,
      notes: this.notes,
      logsDir: this.fleet.logsDir,
    };
  }
}

/** Recordings that never got an id (create refused to the end) are driver findings of their own. */
export function driverProblems(outcomes: LifecycleOutcome[]): string[] {
  return outcomes
    .filter((outcome) => outcome.error)
    .map((outcome) => `${outcome.id ?? "(no id)"} ${outcome.spec.room}: ${outcome.error}`);
}

/** The expectation of a recording that should simply complete. */
export function expectNotified(outcomes: LifecycleOutcome[]): Expectation[] {
  return outcomes
    .filter((outcome): outcome is LifecycleOutcome & { id: string } => outcome.id !== undefined)
    .map((outcome) => ({ id: outcome.id, room: outcome.spec.room, accept: [{ status: "notified" }] }));
}
