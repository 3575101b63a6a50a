import type { Recording } from "@recfleet/recordings";
import { UnrecoverableError } from "bullmq";
import type { RecorderContext } from "../context.ts";
import { stopEgress } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";
import { goneButStored, saveIfStored } from "../egress-gone.ts";
import { failRecording, stopped } from "../outcomes.ts";

/**
 * Asks egress to stop a recording's egress and records the outcome. Throws to have the job
 * retried when egress did not answer; the reconciler fails the recording as lost if it never does.
 */
export async function stopRecordingEgress(
  context: RecorderContext,
  recording: Recording,
  egressId: string,
): Promise<string> {
  const { store } = context;
  try {
    await stopEgress(context, egressId);
    if (recording.status === "starting") {
      // Egress had not begun recording: it aborts, and the recording ends up cancelled.
      await store.annotate(recording.id, `stop sent to egress ${egressId} before it began recording`);
      return "stop sent while starting";
    }
    await store.transition(recording.id, "stopping", { reason: `stop sent to egress ${egressId}` });
    return "stopping";
  } catch (error) {
    const failure = classifyEgressError(error);
    switch (failure.class) {
      case "already_ended":
        // Stopping already: egress is finishing the file; its webhook or the reconciler settles it.
        if (recording.status === "stopping") return "already ending";
        await stopped(context, recording, `egress had already ended (${failure.message})`);
        return "already ended";
      case "not_found": {
        // No instance answered (a live one would have, whatever LiveKit's records say) and
        // LiveKit has no record: nothing is recording. Its file settles it; failing that, a
        // recording that never began is cancelled, and one that did waits for its file up to
        // the stop timeout, after which the reconciler fails it as lost.
        const stored = await saveIfStored(context, recording, goneButStored(egressId));
        if (stored === "unknown") {
          throw new Error(`egress ${egressId} is gone from LiveKit and storage did not answer; retrying`);
        }
        if (stored !== "absent") return "saved";
        if (recording.status === "starting") {
          await store.transition(recording.id, "cancelled", {
            reason: `stopped before it began recording: egress ${egressId} is gone from LiveKit`,
          });
          return "cancelled: egress gone";
        }
        if (recording.status === "active") {
          await store.transition(recording.id, "stopping", {
            reason: `stop sent to egress ${egressId}: LiveKit has no record of it; waiting for its file`,
          });
        }
        return "stopping: egress gone";
      }
      case "retryable":
        await store.transition(recording.id, "stopping", {
          reason: `stop sent to egress ${egressId}; no answer yet (${failure.code}: ${failure.message}), retrying`,
        });
        throw error;
      case "permanent":
        await failRecording(
          context,
          recording.id,
          "stop_failed",
          `egress refused to stop: ${failure.code}: ${failure.message}`,
        );
        throw new UnrecoverableError(`stop refused: ${failure.code}: ${failure.message}`);
    }
  }
}
