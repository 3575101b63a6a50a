import { EgressStatus } from "@livekit/protocol";
import type { JobData } from "@recfleet/queues";
import { type FileFormat, hasWaitNote, type Recording, WAIT_NOTES } from "@recfleet/recordings";
import { backoffDelay, formatSpan } from "@recfleet/runtime";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { RecorderContext } from "../context.ts";
import { findRunningEgress, startEgress } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";
import { enteredAt, failRecording } from "../outcomes.ts";
import { plannedOutput } from "../start-request.ts";
import { awaitedSignal } from "../start-signal.ts";
import { trackFormatOf } from "../track-format.ts";
import { stopRecordingEgress } from "./stop-egress.ts";

/** The backoff of a start waiting for egress capacity, driven by the count of its timeline notes. */
const BACKPRESSURE_BACKOFF = { initialMs: 1000, maxMs: 30_000, jitter: 0.5 };
/** A request may ask to wait longer for its room than the default, up to this. */
export const MAX_ROOM_WAIT_MS = 3_600_000;

/** The backoff label of a retryable start failure, for the metric and the alert. */
function backpressureCause(code: string): string {
  return code === "unavailable" || code === "timeout" ? code : `other_${code}`;
}

/** Puts the job back in the delayed set without spending an attempt. */
async function retryLater(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/**
 * Stores the egress id. The recording becomes `active` once egress reports it is recording
 * (webhook, or the reconciler), or at once when the egress already is. A stop that arrived
 * while Start was in flight is honoured now.
 */
async function finishStart(
  context: RecorderContext,
  recording: Recording,
  egress: { egressId: string; status: EgressStatus },
  reason: string,
) {
  const { egressId } = egress;
  const result =
    egress.status === EgressStatus.EGRESS_ACTIVE
      ? await context.store.transition(recording.id, "active", { egressId, reason })
      : await context.store.attachEgress(
          recording.id,
          egressId,
          `${reason}; it records once ${awaitedSignal(recording)}`,
        );
  await context.leases.release(recording.id);
  const current = result.ok || result.reason === "illegal" ? result.recording : undefined;
  if (current?.stopRequested && (current.status === "active" || current.status === "starting")) {
    await stopRecordingEgress(context, current, current.egressId ?? egressId);
    return "started, then stopped as requested";
  }
  return result.ok ? "started" : `already ${current?.status ?? "gone"}`;
}

export async function handleStart(
  context: RecorderContext,
  data: JobData<"start">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const { store, logger } = context;
  const { recordingId } = data;
  let recording = await store.get(recordingId);
  if (!recording) {
    logger.warn({ recordingId }, "start: recording not found (expired or removed)");
    return "missing";
  }
  // A recording already starting was picked up before: a previous attempt may have started an egress.
  const retried = recording.status === "starting";
  if (recording.status === "queued") {
    // A track's file is in its codec's container: known from the room before anything is planned.
    let trackFormat: FileFormat | null = null;
    if (recording.source.type === "track") {
      const track = await trackFormatOf(context, recording);
      if (track.outcome === "absent") return waitForSource(context, recording, track.what, job, token);
      if (track.outcome === "refused") {
        await failRecording(context, recordingId, "start_failed", track.message);
        throw new UnrecoverableError(track.message);
      }
      trackFormat = track.format;
    }
    const moved = await store.transition(recordingId, "starting", {
      reason: "picked up by a recorder",
      output: plannedOutput(recording, context.profiles, context.storage, trackFormat),
    });
    recording = moved.ok || moved.reason === "illegal" ? moved.recording : undefined;
  }
  if (recording?.status !== "starting") return `skipped (${recording?.status ?? "missing"})`;
  if (recording.egressId) {
    // A previous attempt stored the egress; only the stop-request check may be left to do.
    const stored = { egressId: recording.egressId, status: EgressStatus.EGRESS_STARTING };
    return finishStart(context, recording, stored, `egress ${recording.egressId} started`);
  }

  const since = enteredAt(recording, "starting") ?? context.now();
  const lease = await context.leases.acquire(recordingId, context.egressTimeoutMs * 3);
  if (!lease.acquired) return retryLater(job, token, lease.remainingMs);

  try {
    if (retried || job.attemptsMade > 0) {
      const running = await findRunningEgress(context, recording);
      if (running) {
        logger.info(
          { recordingId, egressId: running.egressId },
          "adopted the egress a previous attempt started",
        );
        return await finishStart(
          context,
          recording,
          running,
          `adopted egress ${running.egressId} started by a previous attempt`,
        );
      }
    }
    if (recording.stopRequested) {
      await context.leases.release(recordingId);
      await store.transition(recordingId, "cancelled", {
        reason: "stop requested before the egress started",
      });
      return "cancelled";
    }
    const info = await startEgress(context, recording);
    logger.info({ recordingId, egressId: info.egressId }, "egress started");
    return await finishStart(context, recording, info, `egress ${info.egressId} started`);
  } catch (error) {
    if (error instanceof DelayedError || error instanceof UnrecoverableError) throw error;
    const failure = classifyEgressError(error);
    // An answered call did not start anything; a timeout or broken connection might have (a
    // full fleet answers only after ~20 s, and livekit-server keeps trying meanwhile), so its
    // lease stays until it expires and the retry looks for the egress first.
    const answered = failure.code !== "timeout" && failure.code !== "network";
    if (answered) await context.leases.release(recordingId);
    if (failure.class === "not_found") return waitForSource(context, recording, "room", job, token);
    if (failure.class === "retryable") {
      context.metrics.startBackpressure.inc({ cause: backpressureCause(failure.code) });
      const waitedMs = context.now() - since;
      if (waitedMs >= context.recorder.startDeadlineMs) {
        const minutes = Math.round(context.recorder.startDeadlineMs / 60_000);
        await failRecording(
          context,
          recordingId,
          "start_failed",
          `egress did not start within ${minutes} min; last answer: ${failure.code}: ${failure.message}`,
        );
        throw new UnrecoverableError(`start deadline passed: ${failure.code}`);
      }
      const waits = recording.timeline.filter((entry) => entry.reason.startsWith(WAIT_NOTES.capacity)).length;
      const delayMs = backoffDelay(waits + 1, BACKPRESSURE_BACKOFF);
      const retryNote = answered
        ? `retrying in ${Math.ceil(delayMs / 1000)} s`
        : `it may still start: looking for it before retrying, in ${Math.ceil(Math.max(delayMs, context.egressTimeoutMs * 3) / 1000)} s at the latest`;
      await store.annotate(
        recordingId,
        `${WAIT_NOTES.capacity} (${failure.code}: ${failure.message}); ${retryNote}`,
      );
      logger.info({ recordingId, code: failure.code, delayMs }, "egress not available: start delayed");
      return retryLater(job, token, delayMs);
    }
    await failRecording(
      context,
      recordingId,
      "start_failed",
      `egress refused to start: ${failure.code}: ${failure.message}`,
    );
    throw new UnrecoverableError(`start refused: ${failure.code}: ${failure.message}`);
  }
}

/**
 * LiveKit answered that the room does not exist: it loads the room before asking any egress.
 * A recording may be requested a moment before its room opens, so the start waits for the room
 * — woken at once by the room_started webhook, polling meanwhile — until the recording's
 * deadline, then fails room_not_found. A track recording waits the same way for its track.
 */
async function waitForSource(
  context: RecorderContext,
  recording: Recording,
  what: "room" | "track",
  job: Job,
  token: string | undefined,
): Promise<never> {
  const requestedMs = recording.roomWaitSeconds
    ? recording.roomWaitSeconds * 1000
    : context.recorder.roomWaitMs;
  const waitMs = Math.min(requestedMs, MAX_ROOM_WAIT_MS);
  const waitedMs = context.now() - Date.parse(recording.createdAt);
  const trackId = recording.source.type === "track" ? recording.source.trackId : "";
  if (waitedMs >= waitMs) {
    const message =
      what === "room"
        ? `room "${recording.room}" did not exist in LiveKit ${formatSpan(waitMs)} after the recording was requested: nobody created or joined it`
        : `track ${trackId} was not published in room "${recording.room}" ${formatSpan(waitMs)} after the recording was requested`;
    await failRecording(context, recording.id, what === "room" ? "room_not_found" : "start_failed", message);
    throw new UnrecoverableError(`${what} not found`);
  }
  if (!hasWaitNote(recording, what)) {
    const note =
      what === "room"
        ? `${WAIT_NOTES.room} "${recording.room}" to open in LiveKit (up to ${formatSpan(waitMs)}): it does not exist yet`
        : `${WAIT_NOTES.track} ${trackId} to be published in room "${recording.room}" (up to ${formatSpan(waitMs)})`;
    await context.store.annotate(recording.id, note);
  }
  // Polls grow with the wait (1 s → 15 s); the room_started webhook promotes the job at once.
  const delayMs = Math.min(Math.max(1_000, waitedMs / 4), 15_000, waitMs - waitedMs);
  context.logger.info(
    { recordingId: recording.id, room: recording.room, waitingFor: what, delayMs },
    `${what} not there yet: start delayed`,
  );
  return retryLater(job, token, delayMs);
}
