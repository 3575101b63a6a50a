import { type EgressInfo, EgressStatus } from "@livekit/protocol";
import { isInProgress, recordingIdSchema } from "@recfleet/recordings";
import type { RecorderContext } from "../context.ts";
import { listActiveEgresses } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";
import { stopUnwantedEgress } from "../egress-gone.ts";
import { requestedNamesOf } from "../start-request.ts";

/**
 * The recording an egress was started for, read from the names recfleet gives every egress: the
 * file `<STORAGE_PREFIX>/<recording id>.<mp4|ogg|webm>`, or a playlist or images in the directory
 * `<STORAGE_PREFIX>/<recording id>/`. Undefined for any other egress: those belong to another
 * system and are never touched.
 */
export function recordingIdOf(info: EgressInfo, prefix: string): string | undefined {
  const names = requestedNamesOf(info);
  const name = names.filepath || names.playlist || names.images;
  if (!name.startsWith(`${prefix}/`)) return undefined;
  const match = /^([^/]+)(?:\.(?:mp4|ogg|webm)|\/[^/]+)$/.exec(name.slice(prefix.length + 1));
  const id = match?.[1];
  return id !== undefined && recordingIdSchema.safeParse(id).success ? id : undefined;
}

/**
 * Why a running egress recfleet started should not be running, or undefined when it should:
 * its recording is finished (failed, cancelled, saved …) or gone, or holds another egress.
 */
function orphanReason(
  info: EgressInfo,
  recording: { status: string; egressId: string | null } | undefined,
): string | undefined {
  if (!recording) return "recording unknown";
  if (!isInProgress(recording.status as Parameters<typeof isInProgress>[0]))
    return `recording ${recording.status}`;
  // A start in flight has not stored its egress yet: that egress is not an orphan.
  if (recording.egressId !== null && recording.egressId !== info.egressId)
    return "recording has another egress";
  return undefined;
}

/**
 * No egress keeps running for a recording that is over: once a sweep, every active egress in
 * LiveKit that recfleet started (by its file path) is checked against its recording, and the
 * orphans are stopped, with a metric and a note on the recording's timeline.
 */
export async function sweepOrphanEgresses(
  context: RecorderContext,
  listed: EgressInfo[] | null = null,
): Promise<number> {
  let active: EgressInfo[];
  try {
    // The sweep's own list when it has one: an egress started since is not an orphan anyway.
    active = listed ?? (await listActiveEgresses(context));
  } catch (error) {
    context.logger.warn({ err: classifyEgressError(error) }, "orphan sweep: ListEgress failed");
    return 0;
  }
  let stopped = 0;
  for (const info of active) {
    // ENDING: it is finishing its file already; stopping it again changes nothing.
    if (info.status === EgressStatus.EGRESS_ENDING) continue;
    const recordingId = recordingIdOf(info, context.storage.prefix);
    if (recordingId === undefined) continue;
    const recording = await context.store.get(recordingId);
    const reason = orphanReason(info, recording);
    if (reason === undefined) continue;
    if (!(await stopUnwantedEgress(context, info.egressId, `orphan: ${reason}`))) continue;
    stopped += 1;
    context.metrics.orphansStopped.inc({ reason });
    if (recording) {
      await context.store.annotate(
        recordingId,
        `stopped egress ${info.egressId}, still running for nothing (${reason})`,
      );
    }
  }
  return stopped;
}
