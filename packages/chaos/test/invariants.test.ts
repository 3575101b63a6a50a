import { describe, expect, it } from "vitest";
import { PURGED, withPurged } from "../src/evidence.ts";
import {
  type Evidence,
  type Expectation,
  evaluate,
  type JobView,
  type RecordingEnd,
} from "../src/invariants.ts";

const A = "01a20132-0000-7000-8000-00000000000a";
const B = "01a20132-0000-7000-8000-00000000000b";
const DOMAIN = "sandbox.localhost";

function recording(id: string, status: string, extra: Partial<RecordingEnd> = {}): RecordingEnd {
  return {
    id,
    room: `room-${id.slice(-1)}`,
    status,
    errorCode: null,
    egressId: `EG_${id.slice(-1)}`,
    notifyEmail: "owner@example.com",
    timeline: [{ status, at: "2026-01-15T10:00:00.000Z", reason: "test" }],
    ...extra,
  };
}

function mail(kind: "saved" | "failed", id: string) {
  return {
    id: `m-${kind}-${id}`,
    messageId: `<${kind}.${id}@${DOMAIN}>`,
    to: ["owner@example.com"],
    subject: "s",
  };
}

/** Two recordings that went right: notified, one egress and one email each. */
function healthy(): Evidence {
  return {
    recordings: { [A]: recording(A, "notified"), [B]: recording(B, "notified") },
    egresses: [A, B].map((id) => ({
      egressId: `EG_${id.slice(-1)}`,
      recordingId: id,
      status: "EGRESS_COMPLETE",
      crashed: false,
      upload: "uploaded",
    })),
    starts: [A, B].map((id, i) => ({
      seq: i + 1,
      recordingId: id,
      status: 200,
      code: null,
      egressId: `EG_${id.slice(-1)}`,
      clientGone: false,
    })),
    startLogComplete: true,
    mails: [mail("saved", A), mail("saved", B)],
    pendingJobs: [],
    failedJobs: [],
    serverErrors: [],
    unready: [],
    unexpectedExits: [],
    drainedMs: 0,
    gatheredMs: 0,
  };
}

const notified: Expectation[] = [A, B].map((id) => ({
  id,
  room: `room-${id.slice(-1)}`,
  accept: [{ status: "notified" }],
}));

function failing(evidence: Evidence, expectations = notified) {
  return evaluate(expectations, evidence, { mailDomain: DOMAIN })
    .checks.filter((check) => !check.passed)
    .map((check) => check.name);
}

describe("the invariants", () => {
  it("pass for recordings that each completed with one egress and one email", () => {
    const evaluation = evaluate(notified, healthy(), { mailDomain: DOMAIN });
    expect(evaluation.checks.every((check) => check.passed)).toBe(true);
    expect(evaluation.tally).toMatchObject({ recordings: 2, lost: 0, duplicateEgresses: 0, savedEmails: 2 });
  });

  it("flag a recording with two egresses, and one whose two Starts both created an egress", () => {
    const evidence = healthy();
    evidence.egresses.push({
      egressId: "EG_x",
      recordingId: A,
      status: "EGRESS_COMPLETE",
      crashed: false,
      upload: "uploaded",
    });
    evidence.starts.push({
      seq: 9,
      recordingId: B,
      status: 200,
      code: null,
      egressId: "EG_y",
      clientGone: true,
    });
    const evaluation = evaluate(notified, evidence, { mailDomain: DOMAIN });
    expect(failing(evidence)).toEqual(["no egress started twice for one recording"]);
    expect(evaluation.tally.duplicateEgresses).toBe(2);
  });

  it("do not count Starts refused for lack of capacity as egresses", () => {
    const evidence = healthy();
    evidence.starts.push({
      seq: 9,
      recordingId: A,
      status: 503,
      code: "unavailable",
      egressId: null,
      clientGone: false,
    });
    expect(failing(evidence)).toEqual([]);
  });

  it("flag an egress still recording for a recording that failed, but not a crashed one", () => {
    const evidence = healthy();
    evidence.recordings[A] = recording(A, "failed", { errorCode: "start_failed" });
    evidence.mails = [mail("failed", A), mail("saved", B)];
    const egress = evidence.egresses[0];
    if (!egress) throw new Error("no egress");
    egress.status = "EGRESS_ACTIVE";
    const expectations: Expectation[] = [
      { id: A, room: "room-a", accept: [{ status: "failed", code: "start_failed", failureEmail: true }] },
      notified[1] as Expectation,
    ];
    expect(failing(evidence, expectations)).toEqual([
      "no egress keeps running for a recording that has ended",
    ]);
    expect(evaluate(expectations, evidence, { mailDomain: DOMAIN }).tally.orphanEgresses).toBe(1);
    egress.crashed = true;
    expect(failing(evidence, expectations)).toEqual([]);
  });

  it("count an egress LiveKit purged since it was seen as ended, never as an orphan or a missing one", () => {
    const evidence = healthy();
    const [first, second] = evidence.egresses;
    if (!first || !second) throw new Error("no egress");
    // Seen recording mid-run; LiveKit then purged it after it ended.
    const seen = new Map([[first.egressId, { ...first, status: "EGRESS_ACTIVE" }]]);
    evidence.egresses = withPurged([second], seen);
    expect(evidence.egresses.map((egress) => [egress.egressId, egress.status])).toEqual([
      [second.egressId, "EGRESS_COMPLETE"],
      [first.egressId, PURGED],
    ]);
    expect(failing(evidence)).toEqual([]);
    evidence.egresses = [second];
    expect(failing(evidence)).toEqual(["no egress started twice for one recording"]);
  });

  it("flag a second email with the same Message-ID, and a notified recording without one", () => {
    const evidence = healthy();
    evidence.mails = [mail("saved", A), mail("saved", A)];
    const evaluation = evaluate(notified, evidence, { mailDomain: DOMAIN });
    expect(failing(evidence)).toEqual(["every saved recording produced exactly one email"]);
    expect(evaluation.tally).toMatchObject({ duplicateEmails: 1, missingEmails: 1 });
  });

  it("accept a notified recording without an email when it had nobody to notify", () => {
    const evidence = healthy();
    evidence.recordings[B] = recording(B, "notified", { notifyEmail: null });
    evidence.mails = [mail("saved", A)];
    expect(failing(evidence)).toEqual([]);
  });

  it("require the failure email where the scenario expects one", () => {
    const evidence = healthy();
    evidence.recordings[B] = recording(B, "failed", { errorCode: "lost" });
    evidence.mails = [mail("saved", A)];
    const expectations: Expectation[] = [
      notified[0] as Expectation,
      { id: B, room: "room-b", accept: [{ status: "failed", code: "lost", failureEmail: true }] },
    ];
    expect(failing(evidence, expectations)).toEqual(["every saved recording produced exactly one email"]);
    evidence.mails.push(mail("failed", B));
    expect(failing(evidence, expectations)).toEqual([]);
  });

  it("count a recording still in progress as lost and one ended otherwise as a wrong end", () => {
    const evidence = healthy();
    evidence.recordings[A] = recording(A, "stopping");
    evidence.recordings[B] = recording(B, "failed", { errorCode: "egress_failed" });
    evidence.mails = [];
    const evaluation = evaluate(notified, evidence, { mailDomain: DOMAIN });
    expect(evaluation.tally).toMatchObject({ lost: 1, wrongEnd: 1 });
    expect(failing(evidence)).toContain("every recording reaches its expected final state");
  });

  it("flag jobs left waiting and failed jobs nobody explains", () => {
    const evidence = healthy();
    const job: JobView = {
      queue: "control",
      id: `stop-${A}`,
      name: "stop",
      state: "delayed",
      recordingId: A,
      attemptsMade: 3,
    };
    evidence.pendingJobs = [job];
    evidence.failedJobs = [{ ...job, state: "failed", failedReason: "boom", finishedOn: 1000 }];
    expect(failing(evidence)).toEqual(["no job is left stuck", "every failed job is explained"]);
  });

  it("explain a reconcile run that failed during a Redis outage", () => {
    const evidence = healthy();
    evidence.failedJobs = [
      {
        queue: "control",
        id: "repeat:reconcile:1",
        name: "reconcile",
        state: "failed",
        recordingId: null,
        attemptsMade: 1,
        failedReason: "Connection is closed.",
        finishedOn: 5_000,
      },
    ];
    const outages = [{ what: "Redis outage 1", start: 1_000, end: 4_000 }];
    const evaluation = evaluate(notified, evidence, { mailDomain: DOMAIN, outages });
    expect(evaluation.checks.every((check) => check.passed)).toBe(true);
    expect(evaluation.failedJobs[0]?.explanation).toMatch(/Redis outage 1/);
  });

  it("allow 503 only inside an outage window, and never a 500", () => {
    const evidence = healthy();
    const outages = [{ what: "Redis outage 1", start: 1_000_000, end: 1_004_000 }];
    evidence.serverErrors = [{ at: 1_002_000, status: 503, method: "GET", url: "/v1/recordings/x" }];
    expect(evaluate(notified, evidence, { mailDomain: DOMAIN, outages }).tally.serverErrors).toBe(0);
    evidence.serverErrors.push(
      { at: 2_000_000, status: 503, method: "GET", url: "/v1/recordings/x" },
      {
        at: 1_002_000,
        status: 500,
        method: "GET",
        url: "/v1/recordings/%zz",
        message: "Failed to decode param",
      },
    );
    const evaluation = evaluate(notified, evidence, { mailDomain: DOMAIN, outages });
    expect(evaluation.tally.serverErrors).toBe(2);
  });

  it("flag a process that died or is not ready at the end", () => {
    const evidence = healthy();
    evidence.unexpectedExits = ["mailer (1)"];
    evidence.unready = ["recorder-2"];
    expect(failing(evidence)).toEqual(["every process is up and ready at the end"]);
  });
});
