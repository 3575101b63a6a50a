import { type FailureCode, FINAL as FINAL_STATUSES } from "@recfleet/recordings";

/** A final state a recording may rightly end in, in a given scenario. */
export type ExpectedEnd =
  | { status: "notified" }
  | { status: "failed"; code: FailureCode; failureEmail: boolean }
  | { status: "cancelled" }
  | { status: "deleted" };

export interface Expectation {
  id: string;
  room: string;
  accept: ExpectedEnd[];
  /** Why this recording may end the way `accept` says (shown when it does not). */
  why?: string;
}

export interface RecordingEnd {
  id: string;
  room: string;
  status: string;
  errorCode: string | null;
  egressId: string | null;
  /** Who is emailed; a recording without anybody to tell is notified without an email. */
  notifyEmail: string | null;
  timeline: { status: string; at: string; reason: string }[];
}

export interface EgressView {
  egressId: string;
  recordingId: string | null;
  status: string;
  crashed: boolean;
  upload: string | null;
}

export interface StartView {
  seq: number;
  recordingId: string | null;
  status: number | null;
  code: string | null;
  egressId: string | null;
  clientGone: boolean;
}

export interface MailView {
  id: string;
  messageId: string | null;
  to: string[];
  subject: string;
}

export interface JobView {
  queue: string;
  id: string;
  name: string;
  state: string;
  recordingId: string | null;
  attemptsMade: number;
  failedReason?: string;
  finishedOn?: number;
}

export interface ServerErrorLine {
  at: number;
  status: number;
  method: string;
  url: string;
  message?: string;
}

/** Everything observed at the end of a scenario, from the emulators, Redis and the logs. */
export interface Evidence {
  /** By recording id; null when the API answered 404. */
  recordings: Record<string, RecordingEnd | null>;
  egresses: EgressView[];
  starts: StartView[];
  /** False when the emulator's request log dropped entries before they were read. */
  startLogComplete: boolean;
  mails: MailView[];
  /** Jobs still waiting, delayed or running once the queues were given time to drain. */
  pendingJobs: JobView[];
  failedJobs: JobView[];
  serverErrors: ServerErrorLine[];
  unready: string[];
  unexpectedExits: string[];
  /** How long the queues took to drain, and the whole gathering, in ms. */
  drainedMs: number;
  gatheredMs: number;
}

export interface Check {
  name: string;
  passed: boolean;
  summary: string;
  problems: string[];
}

export interface Tally {
  recordings: number;
  byStatus: Record<string, number>;
  /** Recordings missing, or not in a final state at the end. */
  lost: number;
  /** Recordings in a final state the scenario does not accept. */
  wrongEnd: number;
  egresses: number;
  /** Recordings with more than one egress (or more than one Start that created one). */
  duplicateEgresses: number;
  /** Egresses still running for a recording that has ended. */
  orphanEgresses: number;
  savedEmails: number;
  failureEmails: number;
  /** Copies beyond the first of one Message-ID. */
  duplicateEmails: number;
  missingEmails: number;
  failedJobs: number;
  unexplainedFailedJobs: number;
  stuckJobs: number;
  serverErrors: number;
}

export interface ExplainedJob extends JobView {
  explanation: string | null;
}

/** A time range in which a fault was active; 503s are the documented answer inside one. */
export interface FaultWindow {
  what: string;
  start: number;
  end: number;
}

export interface EvaluationOptions {
  /** Names a cause for a failed job the scenario provoked on purpose, or undefined. */
  explainFailedJob?: (job: JobView, evidence: Evidence) => string | undefined;
  /** While Redis is away the API answers 503 by design; outside these windows any 5xx is a bug. */
  outages?: FaultWindow[];
  mailDomain: string;
}

const FINAL = new Set<string>(FINAL_STATUSES);
/** A job failing this long after an outage ended still counts as cut off by it. */
const OUTAGE_SLACK_MS = 30_000;
const MESSAGE_ID = /^<(saved|failed)\.([0-9a-f-]{36})@(.+)>$/;

function describeEnd(end: ExpectedEnd): string {
  return end.status === "failed" ? `failed(${end.code})` : end.status;
}

function matches(recording: RecordingEnd, end: ExpectedEnd): boolean {
  if (recording.status !== end.status) return false;
  return end.status !== "failed" || recording.errorCode === end.code;
}

function check(name: string, problems: string[], ok: string): Check {
  return {
    name,
    passed: problems.length === 0,
    summary: problems.length === 0 ? ok : `${problems.length} problem(s)`,
    problems,
  };
}

export function checkFinalStates(expectations: Expectation[], evidence: Evidence): Check {
  const problems: string[] = [];
  for (const expected of expectations) {
    const recording = evidence.recordings[expected.id];
    const wanted = expected.accept.map(describeEnd).join(" or ");
    if (!recording) {
      problems.push(`${expected.id} (${expected.room}) is missing (404), expected ${wanted}`);
      continue;
    }
    if (expected.accept.some((end) => matches(recording, end))) continue;
    const actual = recording.errorCode ? `${recording.status}(${recording.errorCode})` : recording.status;
    const last = recording.timeline.at(-1);
    problems.push(
      `${expected.id} (${expected.room}) is ${actual}, expected ${wanted}${expected.why ? ` (${expected.why})` : ""}; last: ${last?.reason ?? "-"}`,
    );
  }
  return check(
    "every recording reaches its expected final state",
    problems,
    `${expectations.length} as expected`,
  );
}

export function checkOneEgress(ids: string[], evidence: Evidence): Check {
  const problems: string[] = [];
  const wanted = new Set(ids);
  const egresses = new Map<string, EgressView[]>();
  for (const egress of evidence.egresses) {
    if (!egress.recordingId || !wanted.has(egress.recordingId)) continue;
    egresses.set(egress.recordingId, [...(egresses.get(egress.recordingId) ?? []), egress]);
  }
  const starts = new Map<string, StartView[]>();
  for (const start of evidence.starts) {
    if (!start.recordingId || !wanted.has(start.recordingId) || !start.egressId) continue;
    starts.set(start.recordingId, [...(starts.get(start.recordingId) ?? []), start]);
  }
  for (const id of ids) {
    const own = egresses.get(id) ?? [];
    if (own.length > 1) {
      problems.push(
        `${id} has ${own.length} egresses: ${own.map((e) => `${e.egressId} ${e.status}`).join(", ")}`,
      );
    }
    const created = starts.get(id) ?? [];
    if (created.length > 1) {
      problems.push(
        `${id} got ${created.length} Start calls that created an egress: ${created.map((s) => `#${s.seq} → ${s.egressId}${s.clientGone ? " (client gone)" : ""}`).join(", ")}`,
      );
    }
    const recording = evidence.recordings[id];
    if (recording?.status === "notified" && own.length === 0) {
      problems.push(`${id} is notified but the emulator holds no egress for it`);
    }
  }
  if (!evidence.startLogComplete) {
    problems.push(
      "the egress request log dropped entries before they were read: Start counts are incomplete",
    );
  }
  return check(
    "no egress started twice for one recording",
    problems,
    `${ids.length} recordings, ≤ 1 egress each`,
  );
}

const RUNNING_EGRESS = new Set(["EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING"]);

/**
 * An egress still recording for a recording that has ended is an orphan: nothing will ever stop
 * it, and it holds an egress instance (and bills) until LiveKit's own limits end it. A crashed
 * one is exempt: its instance is gone, only its last status is left behind.
 */
export function checkNoOrphanEgress(ids: string[], evidence: Evidence): Check {
  const wanted = new Set(ids);
  const problems: string[] = [];
  for (const egress of evidence.egresses) {
    if (!egress.recordingId || !wanted.has(egress.recordingId) || egress.crashed) continue;
    const recording = evidence.recordings[egress.recordingId];
    if (!recording || !FINAL.has(recording.status) || !RUNNING_EGRESS.has(egress.status)) continue;
    const end = recording.errorCode ? `${recording.status}(${recording.errorCode})` : recording.status;
    problems.push(
      `${egress.egressId} is still ${egress.status} but its recording ${egress.recordingId} is ${end}`,
    );
  }
  return check("no egress keeps running for a recording that has ended", problems, "no orphaned egress");
}

interface MailCount {
  saved: number;
  failed: number;
}

export function countMails(evidence: Evidence, domain: string): Map<string, MailCount> {
  const counts = new Map<string, MailCount>();
  for (const mail of evidence.mails) {
    const match = MESSAGE_ID.exec(mail.messageId ?? "");
    if (!match || match[3] !== domain) continue;
    const [, kind, id = ""] = match;
    const count = counts.get(id) ?? { saved: 0, failed: 0 };
    if (kind === "saved") count.saved += 1;
    else count.failed += 1;
    counts.set(id, count);
  }
  return counts;
}

export function checkEmails(expectations: Expectation[], evidence: Evidence, domain: string): Check {
  const problems: string[] = [];
  const counts = countMails(evidence, domain);
  for (const expected of expectations) {
    const recording = evidence.recordings[expected.id];
    const count = counts.get(expected.id) ?? { saved: 0, failed: 0 };
    const label = `${expected.id} (${expected.room})`;
    if (count.saved > 1) problems.push(`${label}: ${count.saved} "ready" emails (one Message-ID)`);
    if (count.failed > 1) problems.push(`${label}: ${count.failed} "failed" emails (one Message-ID)`);
    if (!recording) continue;
    switch (recording.status) {
      case "notified":
        if (recording.notifyEmail && count.saved === 0) {
          problems.push(`${label} is notified but no "ready" email arrived`);
        }
        if (!recording.notifyEmail && count.saved > 0) {
          problems.push(`${label} has nobody to notify but got a "ready" email`);
        }
        if (count.failed > 0) problems.push(`${label} is notified but also got a "failed" email`);
        break;
      case "failed": {
        if (recording.errorCode !== "notification_failed" && count.saved > 0) {
          problems.push(`${label} failed (${recording.errorCode}) but got a "ready" email`);
        }
        const needsMail = expected.accept.some(
          (end) => end.status === "failed" && end.code === recording.errorCode && end.failureEmail,
        );
        if (needsMail && count.failed === 0) problems.push(`${label} failed but no "failed" email arrived`);
        break;
      }
      case "cancelled":
        if (count.saved + count.failed > 0) problems.push(`${label} was cancelled but got an email`);
        break;
    }
  }
  return check("every saved recording produced exactly one email", problems, "one email per recording");
}

export function checkNoStuckJobs(evidence: Evidence): Check {
  const problems = evidence.pendingJobs.map(
    (job) =>
      `${job.queue}/${job.id} (${job.name}) is still ${job.state}${job.failedReason ? `: ${job.failedReason}` : ""}`,
  );
  return check("no job is left stuck", problems, "queues drained (only the reconcile scheduler's next run)");
}

function inOutage(at: number | undefined, outages: FaultWindow[]): FaultWindow | undefined {
  if (at === undefined) return undefined;
  return outages.find((window) => at >= window.start && at <= window.end + OUTAGE_SLACK_MS);
}

export function explainFailedJobs(evidence: Evidence, options: EvaluationOptions): ExplainedJob[] {
  return evidence.failedJobs.map((job) => {
    const outage = job.name === "reconcile" ? inOutage(job.finishedOn, options.outages ?? []) : undefined;
    const explanation = outage
      ? `a reconcile run cut off by ${outage.what}; the next run repeats the sweep`
      : (options.explainFailedJob?.(job, evidence) ?? null);
    return { ...job, explanation };
  });
}

export function checkFailedJobs(explained: ExplainedJob[]): Check {
  const problems = explained
    .filter((job) => job.explanation === null)
    .map(
      (job) =>
        `${job.queue}/${job.id} (${job.name}) failed after ${job.attemptsMade} attempt(s): ${job.failedReason ?? "no reason"}`,
    );
  return check(
    "every failed job is explained",
    problems,
    explained.length === 0 ? "no failed job" : `${explained.length} failed job(s), each explained`,
  );
}

export function checkNoServerErrors(evidence: Evidence, outages: FaultWindow[]): Check {
  const problems = evidence.serverErrors
    .filter((line) => !(line.status === 503 && inOutage(line.at, outages)))
    .map(
      (line) =>
        `${new Date(line.at).toISOString()} ${line.method} ${line.url} → ${line.status}${line.message ? ` (${line.message})` : ""}`,
    );
  return check("the API answers no 5xx (503 only while Redis is away)", problems, "no unexpected 5xx");
}

export function checkFleetHealthy(evidence: Evidence): Check {
  const problems = [
    ...evidence.unexpectedExits.map((exit) => `process exited unexpectedly: ${exit}`),
    ...evidence.unready.map((name) => `${name} is not ready at the end`),
  ];
  return check("every process is up and ready at the end", problems, "all ready");
}

export interface Evaluation {
  checks: Check[];
  tally: Tally;
  failedJobs: ExplainedJob[];
}

/** The invariants every scenario ends with, and the numbers reported for it. */
export function evaluate(
  expectations: Expectation[],
  evidence: Evidence,
  options: EvaluationOptions,
): Evaluation {
  const ids = expectations.map((expected) => expected.id);
  const failedJobs = explainFailedJobs(evidence, options);
  const checks = [
    checkFinalStates(expectations, evidence),
    checkOneEgress(ids, evidence),
    checkNoOrphanEgress(ids, evidence),
    checkEmails(expectations, evidence, options.mailDomain),
    checkNoStuckJobs(evidence),
    checkFailedJobs(failedJobs),
    checkNoServerErrors(evidence, options.outages ?? []),
    checkFleetHealthy(evidence),
  ];
  const byStatus: Record<string, number> = {};
  let lost = 0;
  let wrongEnd = 0;
  for (const expected of expectations) {
    const recording = evidence.recordings[expected.id];
    const status = recording ? recording.status : "missing";
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (!recording || !FINAL.has(recording.status)) lost += 1;
    else if (!expected.accept.some((end) => matches(recording, end))) wrongEnd += 1;
  }
  const wanted = new Set(ids);
  const perRecording = new Map<string, number>();
  for (const egress of evidence.egresses) {
    if (egress.recordingId && wanted.has(egress.recordingId))
      perRecording.set(egress.recordingId, (perRecording.get(egress.recordingId) ?? 0) + 1);
  }
  const createdStarts = new Map<string, number>();
  for (const start of evidence.starts) {
    if (start.recordingId && start.egressId && wanted.has(start.recordingId))
      createdStarts.set(start.recordingId, (createdStarts.get(start.recordingId) ?? 0) + 1);
  }
  const mails = countMails(evidence, options.mailDomain);
  let savedEmails = 0;
  let failureEmails = 0;
  let duplicateEmails = 0;
  let missingEmails = 0;
  for (const id of ids) {
    const count = mails.get(id) ?? { saved: 0, failed: 0 };
    savedEmails += count.saved;
    failureEmails += count.failed;
    duplicateEmails += Math.max(0, count.saved - 1) + Math.max(0, count.failed - 1);
    const recording = evidence.recordings[id];
    if (recording?.status === "notified" && recording.notifyEmail && count.saved === 0) missingEmails += 1;
  }
  const duplicateEgresses = ids.filter(
    (id) => (perRecording.get(id) ?? 0) > 1 || (createdStarts.get(id) ?? 0) > 1,
  ).length;
  return {
    checks,
    failedJobs,
    tally: {
      recordings: expectations.length,
      byStatus,
      lost,
      wrongEnd,
      egresses: [...perRecording.values()].reduce((sum, n) => sum + n, 0),
      duplicateEgresses,
      orphanEgresses: checks[2]?.problems.length ?? 0,
      savedEmails,
      failureEmails,
      duplicateEmails,
      missingEmails,
      failedJobs: failedJobs.length,
      unexplainedFailedJobs: failedJobs.filter((job) => job.explanation === null).length,
      stuckJobs: evidence.pendingJobs.length,
      serverErrors: evidence.serverErrors.filter(
        (line) => !(line.status === 503 && inOutage(line.at, options.outages ?? [])),
      ).length,
    },
  };
}
