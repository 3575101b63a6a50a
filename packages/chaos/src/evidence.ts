import type { Job } from "bullmq";
import { runPool, sleep } from "./driver.ts";
import type { ChaosFleet } from "./fleet.ts";
import type {
  EgressView,
  Evidence,
  JobView,
  MailView,
  RecordingEnd,
  ServerErrorLine,
  StartView,
} from "./invariants.ts";

const RECORDING_FILE = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(?:mp4|ogg|webm)/;
const PENDING_STATES = ["active", "waiting", "delayed", "prioritized", "waiting-children"] as const;
/** The reconcile job scheduler always has its next run queued: that one is not stuck. */
const SCHEDULED = "reconcile";
/** The status reported for an egress LiveKit purged after it ended (not a LiveKit status). */
export const PURGED = "purged by LiveKit";

interface RecordedRequest {
  seq: number;
  method: string | null;
  body: unknown;
  status: number | null;
  code: string | null;
  egressId: string | null;
  clientGone: boolean;
}

interface EgressSnapshot {
  info: { egress_id?: string; status?: string; file_results?: { filename?: string }[] };
  crashed: boolean;
  upload: { outcome?: string } | null;
}

function recordingIdIn(text: string): string | null {
  return RECORDING_FILE.exec(text)?.[1] ?? null;
}

/**
 * Reads the egress emulator's request log, which keeps only the latest 10,000 requests, and
 * keeps every StartRoomCompositeEgress seen since it was opened. Polling it during a long run
 * keeps the count complete; a gap in sequence numbers says some were dropped unseen.
 */
export class StartCollector {
  private readonly fleet: ChaosFleet;
  private lastSeq = 0;
  private opened = false;
  complete = true;
  readonly starts: StartView[] = [];

  constructor(fleet: ChaosFleet) {
    this.fleet = fleet;
  }

  async poll(): Promise<void> {
    const { requests } = await this.fleet.livekit<{ requests: RecordedRequest[] }>("/requests");
    const fresh = requests.filter((request) => request.seq > this.lastSeq);
    if (this.opened && fresh.length > 0 && (fresh[0]?.seq ?? 0) > this.lastSeq + 1) this.complete = false;
    for (const request of fresh) {
      if (this.opened && request.method === "StartRoomCompositeEgress") {
        this.starts.push({
          seq: request.seq,
          recordingId: recordingIdIn(JSON.stringify(request.body)),
          status: request.status,
          code: request.code,
          egressId: request.egressId,
          clientGone: request.clientGone,
        });
      }
    }
    this.lastSeq = Math.max(this.lastSeq, ...fresh.map((request) => request.seq));
    this.opened = true;
  }
}

/** Where a scenario began: later reads take only what came after. */
export interface EvidenceWindow {
  startedAt: number;
  apiLogOffset: number;
  starts: StartCollector;
  /** Egresses seen during the run, by id: LiveKit may purge ended ones before the end. */
  egressesSeen: Map<string, EgressView>;
}

export async function openWindow(fleet: ChaosFleet): Promise<EvidenceWindow> {
  const starts = new StartCollector(fleet);
  await starts.poll();
  return { startedAt: Date.now(), apiLogOffset: fleet.logOffset("api"), starts, egressesSeen: new Map() };
}

/** Notes the egresses the emulator holds now, before a fault makes LiveKit forget them. */
export async function rememberEgresses(fleet: ChaosFleet, window: EvidenceWindow): Promise<void> {
  for (const view of await egressViews(fleet)) window.egressesSeen.set(view.egressId, view);
}

/**
 * The egresses at the end, plus those seen earlier that LiveKit has purged since: purging takes
 * only ended egresses, so such a one counts as ended, whatever its status was when last seen.
 */
export function withPurged(current: EgressView[], seen: ReadonlyMap<string, EgressView>): EgressView[] {
  const present = new Set(current.map((view) => view.egressId));
  const purged = [...seen.values()]
    .filter((view) => !present.has(view.egressId))
    .map((view) => ({ ...view, status: PURGED }));
  return [...current, ...purged];
}

function jobView(queue: string, job: Job, state: string): JobView {
  const data = job.data as { recordingId?: unknown };
  return {
    queue,
    id: job.id ?? "?",
    name: job.name,
    state,
    recordingId: typeof data?.recordingId === "string" ? data.recordingId : null,
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    ...(job.finishedOn ? { finishedOn: job.finishedOn } : {}),
  };
}

export async function pendingJobs(fleet: ChaosFleet): Promise<JobView[]> {
  const pending: JobView[] = [];
  for (const [name, queue] of Object.entries(fleet.queues)) {
    for (const state of PENDING_STATES) {
      const jobs = await queue.getJobs([state], 0, -1);
      for (const job of jobs) if (job && job.name !== SCHEDULED) pending.push(jobView(name, job, state));
    }
  }
  return pending;
}

/** Polls until nothing but the reconcile scheduler is left in the queues, or `timeoutMs` passes. */
export async function waitForDrain(fleet: ChaosFleet, timeoutMs: number): Promise<JobView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await pendingJobs(fleet);
    if (pending.length === 0 || Date.now() > deadline) return pending;
    await sleep(500);
  }
}

async function failedJobs(fleet: ChaosFleet, ids: Set<string>, since: number): Promise<JobView[]> {
  const failed: JobView[] = [];
  for (const [name, queue] of Object.entries(fleet.queues)) {
    for (const job of await queue.getJobs(["failed"], 0, -1)) {
      if (!job) continue;
      const view = jobView(name, job, "failed");
      const ours = view.recordingId ? ids.has(view.recordingId) : (view.finishedOn ?? 0) >= since;
      if (ours) failed.push(view);
    }
  }
  return failed;
}

export async function finalRecordings(
  fleet: ChaosFleet,
  ids: string[],
): Promise<Record<string, RecordingEnd | null>> {
  const result: Record<string, RecordingEnd | null> = {};
  await runPool(ids, 8, async (id) => {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await fleet.observer.request<
        RecordingEnd & { error: { code: string } | null; notify: { email: string } | null }
      >("GET", `/v1/recordings/${id}`);
      if (answer.status === 200 && answer.body) {
        const { body } = answer;
        result[id] = {
          id: body.id,
          room: body.room,
          status: body.status,
          errorCode: body.error?.code ?? null,
          egressId: body.egressId,
          notifyEmail: body.notify?.email ?? null,
          timeline: body.timeline,
        };
        return;
      }
      if (answer.status === 404) {
        result[id] = null;
        return;
      }
      if (attempt >= 10) throw new Error(`GET /v1/recordings/${id} keeps answering ${answer.status}`);
      await sleep(1000);
    }
  });
  return result;
}

export async function egressViews(fleet: ChaosFleet): Promise<EgressView[]> {
  const { egresses } = await fleet.livekit<{ egresses: EgressSnapshot[] }>("/egresses");
  return egresses.map((egress) => {
    const filename = egress.info.file_results?.[0]?.filename ?? "";
    return {
      egressId: egress.info.egress_id ?? "?",
      recordingId: recordingIdIn(filename),
      status: egress.info.status ?? "?",
      crashed: egress.crashed,
      upload: egress.upload?.outcome ?? null,
    };
  });
}

export async function mailViews(fleet: ChaosFleet): Promise<MailView[]> {
  const mails = await fleet.test.mails();
  return mails.map((mail) => ({
    id: mail.id,
    messageId: mail.messageId,
    to: mail.to.map((to) => to.address),
    subject: mail.subject,
  }));
}

/** 5xx answers the API logged since `offset`, with the error behind each 500. */
export function serverErrorsSince(fleet: ChaosFleet, offset: number): ServerErrorLine[] {
  const lines = fleet.logLinesSince("api", offset);
  const causes = new Map<string, string>();
  for (const line of lines) {
    if (line.msg !== "unexpected error") continue;
    const err = line.err as { message?: string } | undefined;
    causes.set(String(line.requestId), err?.message ?? "unknown");
  }
  const errors: ServerErrorLine[] = [];
  for (const line of lines) {
    const res = line.res as { statusCode?: number } | undefined;
    const req = line.req as { id?: string; method?: string; url?: string } | undefined;
    if (!res?.statusCode || res.statusCode < 500) continue;
    const message = causes.get(String(req?.id));
    errors.push({
      at: Date.parse(String(line.time)),
      status: res.statusCode,
      method: req?.method ?? "?",
      url: (req?.url ?? "?").slice(0, 200),
      ...(message ? { message } : {}),
    });
  }
  return errors;
}

/**
 * Everything the invariants look at, read once the queues have drained (or `drainMs` passed):
 * the recordings through the API, egresses and Start calls from the egress emulator, the SMTP
 * catcher's messages, the BullMQ queues, the API's log and the processes' readiness.
 */
export async function gatherEvidence(
  fleet: ChaosFleet,
  ids: string[],
  window: EvidenceWindow,
  drainMs: number,
): Promise<Evidence> {
  const drainStarted = Date.now();
  const pending = await waitForDrain(fleet, drainMs);
  const drainedMs = Date.now() - drainStarted;
  await window.starts.poll();
  const [recordings, egresses, mails, failed, unready] = await Promise.all([
    finalRecordings(fleet, ids),
    egressViews(fleet),
    mailViews(fleet),
    failedJobs(fleet, new Set(ids), window.startedAt),
    fleet.unready(30_000),
  ]);
  return {
    recordings,
    egresses: withPurged(egresses, window.egressesSeen),
    starts: window.starts.starts,
    startLogComplete: window.starts.complete,
    mails,
    pendingJobs: pending,
    failedJobs: failed,
    serverErrors: serverErrorsSince(fleet, window.apiLogOffset),
    unready,
    unexpectedExits: fleet.unexpectedExits.map((exit) => `${exit.name} (${exit.code})`),
    drainedMs,
    gatheredMs: Date.now() - drainStarted,
  };
}
