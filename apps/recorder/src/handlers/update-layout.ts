import type { JobData } from "@recfleet/queues";
import type { RecorderContext } from "../context.ts";
import { updateEgressLayout } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";

/**
 * `update-layout`: send a running room composite its recording's current layout. Before the
 * egress exists its Start carries the layout; after it ended there is nothing to change. While
 * its template has not joined the room yet LiveKit answers "participant does not exist": the job
 * is retried (BullMQ's backoff) until it has.
 */
export async function handleUpdateLayout(
  context: RecorderContext,
  data: JobData<"update-layout">,
): Promise<string> {
  const recording = await context.store.get(data.recordingId);
  if (!recording) return "missing";
  if (recording.source.type !== "room") return "skipped: not a room composite";
  if (recording.status !== "starting" && recording.status !== "active") {
    return `skipped: recording is ${recording.status}`;
  }
  if (recording.egressId === null) return "skipped: the Start will carry the layout";
  try {
    await updateEgressLayout(context, recording.egressId, recording.layout);
  } catch (error) {
    const failure = classifyEgressError(error);
    if (failure.class === "not_found" && failure.message.includes("egress does not exist")) {
      return "skipped: LiveKit no longer knows the egress";
    }
    if (failure.class === "permanent") {
      await context.store.annotate(
        recording.id,
        `layout ${recording.layout} refused by egress: ${failure.message}`,
      );
      return "refused";
    }
    throw error;
  }
  await context.store.annotate(
    recording.id,
    `layout ${recording.layout} sent to egress ${recording.egressId}`,
  );
  return "updated";
}
