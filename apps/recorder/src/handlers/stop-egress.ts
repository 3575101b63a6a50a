import type { Recording } from "@recfleet/recordings";
import { UnrecoverableError } from "bullmq";
import type { RecorderContext } from "../context.ts";
import { stopEgress } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";
import { settleGoneEgress } from "../egress-gone.ts";
import { failRecording } from "../outcomes.ts";

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
        await store.transition(recording.id, "stopped", {
          reason: `egress had already ended (${failure.message})`,
        });
        return "already ended";
      case "not_found": {
        // LiveKit forgot it (purged after it ended, or lost its data): settled by its file.
        const settled = await settleGoneEgress(context, recording, egressId);
        if (settled === undefined) {
          throw new Error(`egress ${egressId} is gone from LiveKit and storage did not answer; retrying`);
        }
        return settled;
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
