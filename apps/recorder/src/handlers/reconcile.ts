import { type EgressInfo, EgressStatus } from "@livekit/protocol";
import {
  applyEgressReport,
  egressReportOf,
  hasWaitNote,
  type Recording,
  type RecordingStatus,
  recordsRoom,
  storesObjects,
  WAIT_NOTES,
} from "@recfleet/recordings";
import { formatSpan } from "@recfleet/runtime";
import type { Redis } from "ioredis";
import { catchUpRules } from "../auto-record.ts";
import type { RecorderContext } from "../context.ts";
import { expireDue, finishDeletion } from "../deletion.ts";
import { getEgress, listActiveEgresses } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";
import { findArtifacts, saveFound, settleUnknownEgress, stopUnwantedEgress } from "../egress-gone.ts";
import { enteredAt, failRecording } from "../outcomes.ts";
import { awaitedSignal, missedSignal } from "../start-signal.ts";
import { sweepOrphanEgresses } from "./orphans.ts";

const SWEPT: readonly RecordingStatus[] = ["queued", "starting", "active", "stopping", "stopped", "saved"];
const BATCH = 500;
const PARALLEL = 4;

type Action = string | undefined;

/**
 * What LiveKit said at the start of a sweep: every active egress, fetched in one call, so that a
 * sweep costs one ListEgress however many recordings are in progress. An egress not in it (it
 * ended, or LiveKit forgot it) is asked about on its own; null: the call failed, ask each.
 */
type ActiveEgresses = ReadonlyMap<string, EgressInfo> | null;

async function queueState(context: RecorderContext, jobId: string): Promise<string> {
  const job = await context.producer.queue("control").getJob(jobId);
  return job ? await job.getState() : "missing";
}

/** Queued without a start job (the API could not queue it and could not roll back): queue it. */
async function reconcileQueued(context: RecorderContext, recording: Recording, age: number): Promise<Action> {
  if (age < context.recorder.queuedTimeoutMs) return undefined;
  const state = await queueState(context, `start-${recording.id}`);
  if (state !== "missing") return undefined;
  await context.producer.enqueue("start", { recordingId: recording.id });
  await context.store.annotate(recording.id, "start job was missing: queued again by the reconciler");
  return "requeued start";
}

async function reconcileWithEgress(
  context: RecorderContext,
  recording: Recording,
  egressId: string,
  active: ActiveEgresses,
): Promise<Action> {
  const { recorder } = context;
  const now = context.now();
  let info: EgressInfo | undefined = active?.get(egressId);
  try {
    info ??= await getEgress(context, egressId);
  } catch (error) {
    const failure = classifyEgressError(error);
    if (failure.class !== "not_found") {
      // LiveKit unreachable: nothing can be concluded this round.
      context.logger.warn({ recordingId: recording.id, err: failure }, "reconcile: ListEgress failed");
      return undefined;
    }
  }
  let current = recording;
  let noted: Action;
  if (info) {
    const report = egressReportOf(info);
    if (!report) return undefined;
    const outcome = await applyEgressReport(context.store, recording, report, "reconciler: webhook missed");
    if (outcome.refusedFilename !== undefined) {
      context.logger.warn(
        {
          recordingId: recording.id,
          egressId,
          filename: outcome.refusedFilename,
          expected: recording.output?.file?.filepath,
        },
        "egress reported a file recfleet did not ask for: not taken",
      );
    }
    if (outcome.failed) {
      await context.producer.enqueue("recording-failed", {
        recordingId: recording.id,
        reason: outcome.failed,
      });
      return `failed: ${outcome.failed}`;
    }
    if (outcome.streamEnded) {
      await context.producer.enqueue("stream-ended", { recordingId: recording.id });
      return "stream ended";
    }
    if (outcome.changed) return `moved to ${outcome.recording.status}`;
    current = outcome.recording;
  } else {
    // 404 "egress does not exist" (or an empty list): an answer, not an outage — but not proof
    // that the egress ended either. Its file settles it; otherwise its state's deadline does.
    const settled = await settleUnknownEgress(context, recording, egressId);
    if (settled === undefined) return undefined;
    if (settled === "saved") return "egress gone: saved";
    if (settled === "noted") noted = "noted: egress unknown to LiveKit";
  }
  // An egress LiveKit forgot may be waiting for its start signal as much as a STARTING one.
  if (current.status === "starting" && (!info || info.status === EgressStatus.EGRESS_STARTING)) {
    // Counted from when this egress was started, not from when the recording began waiting.
    const started = current.timeline.find((entry) => entry.reason.includes(egressId));
    const since = started ? Date.parse(started.at) : now;
    const span = formatSpan(recorder.egressStartTimeoutMs);
    if (now - since > recorder.egressStartTimeoutMs) {
      // Stopped first: a given-up egress must not keep its slot and record later for nobody.
      const reached = await stopUnwantedEgress(context, egressId, "no start signal");
      if (info || reached) {
        await failRecording(
          context,
          current.id,
          "no_start_signal",
          `${missedSignal(current, span)}, so egress ${egressId} never began recording; it was stopped`,
        );
        return "failed: no start signal";
      }
      await failRecording(
        context,
        current.id,
        "lost",
        `egress ${egressId} is gone from LiveKit and never began recording within ${span}`,
      );
      return "lost: egress gone";
    }
    if (info && !hasWaitNote(current, recordsRoom(current.source) ? "publisher" : "page")) {
      await context.store.annotate(
        current.id,
        recordsRoom(current.source)
          ? `${WAIT_NOTES.publisher} in room "${current.room}": egress ${egressId} records once a camera, microphone or screen is shared`
          : `${WAIT_NOTES.page}: egress ${egressId} records once ${awaitedSignal(current)}`,
      );
      return recordsRoom(current.source) ? "noted: waiting for a publisher" : "noted: waiting for the page";
    }
  }
  if (current.status === "stopping") {
    // A dead egress instance keeps its egress ACTIVE forever and never uploads the file.
    const since = enteredAt(current, "stopping") ?? now;
    if (now - since > recorder.stopTimeoutMs) {
      await stopUnwantedEgress(context, egressId, "stop never completed");
      const span = formatSpan(recorder.stopTimeoutMs);
      await failRecording(
        context,
        current.id,
        "lost",
        info
          ? `egress ${egressId} did not finish within ${span} of the stop; its instance is presumed dead and the file lost`
          : `egress ${egressId} is gone from LiveKit and its file did not arrive within ${span} of the stop`,
      );
      return info ? "lost: stop never completed" : "lost: egress gone";
    }
  }
  if (current.status === "active") {
    const since = Date.parse(current.startedAt ?? current.createdAt);
    if (now - since > recorder.maxDurationMs) {
      await context.producer.enqueue("stop", { recordingId: current.id, reason: "maximum duration reached" });
      return "stopped: maximum duration";
    }
  }
  return noted;
}

async function reconcileStarting(
  context: RecorderContext,
  recording: Recording,
  active: ActiveEgresses,
): Promise<Action> {
  if (recording.egressId) return reconcileWithEgress(context, recording, recording.egressId, active);
  // The start job owns this recording while it is waiting, delayed or running.
  const state = await queueState(context, `start-${recording.id}`);
  if (state === "waiting" || state === "delayed" || state === "active" || state === "prioritized")
    return undefined;
  // The job may have finished just now, after storing its egress: only what is still true counts.
  const current = await context.store.get(recording.id);
  if (current?.status !== "starting" || current.egressId) return undefined;
  await failRecording(
    context,
    recording.id,
    "start_failed",
    `start job ended (${state}) without starting an egress`,
  );
  return "failed: start job gone";
}

/** Egress ended but the listener never reported the file: look in the bucket. */
async function reconcileStopped(context: RecorderContext, recording: Recording): Promise<Action> {
  const { recorder } = context;
  // A stream-only recording stores nothing: its owner is told once it stopped (same job id).
  if (!storesObjects(recording)) {
    const job = await context.producer.queue("notifications").getJob(`ended-${recording.id}`);
    if (job) return undefined;
    await context.producer.enqueue("stream-ended", { recordingId: recording.id });
    return "requeued notification";
  }
  const since = enteredAt(recording, "stopped") ?? context.now();
  const age = context.now() - since;
  // No bucket event comes from the backup storage: a file egress says it put there is looked
  // for at once.
  const backup = recording.output?.file?.backup;
  const inBackup =
    backup != null && recording.file?.bucket === backup.bucket && recording.file.key === backup.key;
  // Without bucket events (STORAGE_EVENTS=none) nothing else will report the file: look now.
  const listening = context.storage.events === "listen";
  if (age < recorder.fileCheckAfterMs && !inBackup && listening) return undefined;
  const found = await findArtifacts(context, recording);
  if (found === "unknown") return undefined;
  if (found.complete) {
    const stored = await saveFound(
      context,
      recording,
      found,
      `${found.artifacts.length === 1 ? "file" : "files"} found in storage by the reconciler (${listening ? "bucket event missed" : "STORAGE_EVENTS=none: no bucket events"})`,
    );
    return stored === "saved" ? "saved: file found" : undefined;
  }
  if (age < recorder.fileLostAfterMs) return undefined;
  await failRecording(
    context,
    recording.id,
    "lost",
    `${found.waitingFor} never arrived in storage (${formatSpan(recorder.fileLostAfterMs)} after the egress ended)`,
  );
  return "lost: file never arrived";
}

/** Saved but its email job is gone (a crash between the two steps): queue it (same job id). */
async function reconcileSaved(context: RecorderContext, recording: Recording): Promise<Action> {
  const since = enteredAt(recording, "saved") ?? context.now();
  if (context.now() - since < context.recorder.fileCheckAfterMs) return undefined;
  const job = await context.producer.queue("notifications").getJob(`saved-${recording.id}`);
  if (job) return undefined;
  await context.producer.enqueue("recording-saved", { recordingId: recording.id });
  return "requeued notification";
}

async function reconcileOne(context: RecorderContext, id: string, active: ActiveEgresses): Promise<Action> {
  const recording = await context.store.get(id);
  if (!recording) return undefined;
  const age = context.now() - Date.parse(recording.updatedAt);
  switch (recording.status) {
    case "queued":
      return reconcileQueued(context, recording, age);
    case "starting":
      return reconcileStarting(context, recording, active);
    case "active":
    case "stopping":
      return recording.egressId
        ? reconcileWithEgress(context, recording, recording.egressId, active)
        : undefined;
    case "stopped":
      return reconcileStopped(context, recording);
    case "saved":
      return reconcileSaved(context, recording);
    default:
      return undefined;
  }
}

/**
 * One sweep over every recording that is not final, applying what lost webhooks and bucket
 * events would have. Single-flight across recorders through a Redis lock.
 */
export async function handleReconcile(
  context: RecorderContext,
  lock: Redis,
  prefix: string,
): Promise<Record<string, number>> {
  const lockKey = `${prefix}:rec:reconcile-lock`;
  const owner = `${process.pid}-${Math.random()}`;
  const taken = await lock.set(
    lockKey,
    owner,
    "PX",
    Math.max(context.recorder.reconcileIntervalMs, 10_000),
    "NX",
  );
  if (taken !== "OK") return { skipped: 1 };
  const summary: Record<string, number> = {};
  try {
    let active: ActiveEgresses = null;
    try {
      active = new Map((await listActiveEgresses(context)).map((info) => [info.egressId, info]));
    } catch (error) {
      context.logger.warn(
        { err: classifyEgressError(error) },
        "reconcile: ListEgress failed; asking per recording",
      );
    }
    for (const status of SWEPT) {
      const ids = await context.store.idsInStatus(status, BATCH);
      for (let i = 0; i < ids.length; i += PARALLEL) {
        const actions = await Promise.all(
          ids.slice(i, i + PARALLEL).map((id) =>
            reconcileOne(context, id, active).catch((error: unknown) => {
              context.logger.error({ recordingId: id, err: error }, "reconcile failed for a recording");
              return "error";
            }),
          ),
        );
        for (const action of actions) {
          if (!action) continue;
          summary[action] = (summary[action] ?? 0) + 1;
          context.metrics.reconcileActions.inc({ action });
        }
      }
    }
    // Deletions whose job was lost, and files whose time has come.
    for (const id of await context.store.idsPendingDeletion(BATCH)) {
      const outcome = await finishDeletion(context, id).catch((error: unknown) => {
        context.logger.warn({ recordingId: id, err: error }, "reconcile: deletion not finished");
        return "error";
      });
      if (outcome === "deleted") summary["finished deletion"] = (summary["finished deletion"] ?? 0) + 1;
      if (outcome === "missing") await context.store.dropFromSweeps(id);
    }
    const expired = await expireDue(context).catch((error: unknown) => {
      context.logger.warn({ err: error }, "reconcile: expiry sweep failed");
      return 0;
    });
    if (expired > 0) {
      summary["expired files"] = expired;
      context.metrics.reconcileActions.inc({ action: "expired files" }, expired);
    }
    const orphans = await sweepOrphanEgresses(context, active ? [...active.values()] : null);
    if (orphans > 0) {
      summary["stopped orphan egress"] = orphans;
      context.metrics.reconcileActions.inc({ action: "stopped orphan egress" }, orphans);
    }
    const caughtUp = await catchUpRules(context, BATCH).catch((error: unknown) => {
      context.logger.warn({ err: classifyEgressError(error) }, "reconcile: auto-record catch-up failed");
      return {};
    });
    for (const [action, times] of Object.entries(caughtUp)) {
      summary[action] = times;
      context.metrics.reconcileActions.inc({ action }, times);
    }
  } finally {
    await lock.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      lockKey,
      owner,
    );
  }
  if (Object.keys(summary).length > 0) context.logger.info({ summary }, "reconciled");
  return summary;
}
