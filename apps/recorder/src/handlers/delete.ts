import type { JobData } from "@recfleet/queues";
import { DelayedError, type Job } from "bullmq";
import type { RecorderContext } from "../context.ts";
import { finishDeletion } from "../deletion.ts";

/** How often a deletion waiting for egress to be done with the files looks again. */
const WAIT_MS = 5000;

/** `delete`: finish a deletion, or come back later while egress may still write the files. */
export async function handleDelete(
  context: RecorderContext,
  data: JobData<"delete">,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const outcome = await finishDeletion(context, data.recordingId);
  if (outcome !== "waiting for egress") return outcome;
  // Delaying spends no attempt: the recording reaches a final state by itself (the reconciler
  // bounds every in-progress state), and then this run removes its files.
  await job.moveToDelayed(Date.now() + Math.min(WAIT_MS, context.recorder.reconcileIntervalMs), token);
  throw new DelayedError();
}
