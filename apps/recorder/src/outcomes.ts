import { type FailureCode, type Recording, storesObjects } from "@recfleet/recordings";
import type { RecorderContext } from "./context.ts";

/**
 * Moves a recording to failed and queues the failure email. Safe to repeat: a retry after a
 * crash between the two steps finds the recording failed and queues the (deduplicated) job.
 */
export async function failRecording(
  context: RecorderContext,
  recordingId: string,
  code: FailureCode,
  message: string,
): Promise<Recording | undefined> {
  const result = await context.store.transition(recordingId, "failed", {
    reason: message,
    error: { code, message },
  });
  const recording = result.ok || result.reason === "illegal" ? result.recording : undefined;
  if (recording?.status === "failed") {
    await context.producer.enqueue("recording-failed", {
      recordingId,
      reason: recording.error?.code ?? code,
    });
    context.logger.warn({ recordingId, code, message }, "recording failed");
  }
  return recording;
}

/** Moves a recording to stopped; a stream-only one, which stores nothing, has its owner told. */
export async function stopped(context: RecorderContext, recording: Recording, reason: string): Promise<void> {
  const moved = await context.store.transition(recording.id, "stopped", { reason });
  if (moved.ok && !storesObjects(recording)) {
    await context.producer.enqueue("stream-ended", { recordingId: recording.id });
  }
}

/**
 * When the recording last entered a status: the first entry of the last run of that status on
 * the timeline (notes made while in a status repeat it and do not count as entering it).
 */
export function enteredAt(recording: Recording, status: Recording["status"]): number | undefined {
  const { timeline } = recording;
  for (let i = timeline.length - 1; i >= 0; i -= 1) {
    if (timeline[i]?.status !== status) continue;
    let first = i;
    while (first > 0 && timeline[first - 1]?.status === status) first -= 1;
    return Date.parse(timeline[first]?.at ?? "");
  }
  return undefined;
}
