import {
  type ArtifactCheck,
  checkArtifacts,
  hasWaitNote,
  type Recording,
  type RecordingOutput,
  storesObjects,
  WAIT_NOTES,
} from "@recfleet/recordings";
import type { RecorderContext } from "./context.ts";
import { stopEgress } from "./egress-calls.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { stopped } from "./outcomes.ts";
import { outputOf } from "./start-request.ts";

/** What recfleet asked egress for and where it lands. */
export function expectedOutput(context: RecorderContext, recording: Recording): RecordingOutput {
  return outputOf(recording, context.profiles, context.storage);
}

/**
 * Whether every final object of the recording is in storage, or "unknown" when storage did not
 * answer. Only the keys recfleet asked egress for are looked at (the file's primary one, then
 * its backup one when configured), never one a webhook or an event named.
 */
export async function findArtifacts(
  context: RecorderContext,
  recording: Recording,
): Promise<ArtifactCheck | "unknown"> {
  try {
    return await checkArtifacts(
      { output: expectedOutput(context, recording), egressId: recording.egressId },
      context.reader,
    );
  } catch (error) {
    context.logger.warn(
      { recordingId: recording.id, err: { message: (error as Error).message } },
      "storage did not answer while looking for the recording's objects",
    );
    return "unknown";
  }
}

/**
 * Saves the recording when its objects are all in storage: "saved", "not saved" (another signal
 * moved it first), "absent" (something is missing), or "unknown" while storage does not answer.
 */
export async function saveIfStored(
  context: RecorderContext,
  recording: Recording,
  reason: string,
): Promise<"saved" | "not saved" | "absent" | "unknown"> {
  return saveFound(context, recording, await findArtifacts(context, recording), reason);
}

/** saveIfStored with the objects already looked for. */
export async function saveFound(
  context: RecorderContext,
  recording: Recording,
  found: ArtifactCheck | "unknown",
  reason: string,
): Promise<"saved" | "not saved" | "absent" | "unknown"> {
  if (found === "unknown") return found;
  // Nothing to find for a stream-only recording: never "saved" for lack of expected objects.
  if (!found.complete || !storesObjects(recording)) return "absent";
  const saved = await context.store.transition(recording.id, "saved", {
    reason,
    file: found.file,
    artifacts: found.artifacts,
  });
  // The job id de-duplicates the email.
  if (saved.ok) await context.producer.enqueue("recording-saved", { recordingId: recording.id });
  return saved.ok ? "saved" : "not saved";
}

/** Why a recording whose egress LiveKit forgot was saved all the same. */
export const goneButStored = (egressId: string) =>
  `egress ${egressId} is gone from LiveKit; its objects are in storage`;

/**
 * LiveKit answered 404 for the recording's egress. That says LiveKit forgot it, not that it
 * ended: ended egresses are purged after 24 h, but a LiveKit that lost its Redis forgets running
 * ones too, and those keep recording, report (and are stored) again at their next change, and
 * still obey StopEgress (livekit-server asks the egress' instance before its records). So the
 * file in storage settles it as saved; without the file the recording keeps its state, noted
 * once, until that state's own deadline. Answers what was done, or undefined for nothing.
 */
export async function settleUnknownEgress(
  context: RecorderContext,
  recording: Recording,
  egressId: string,
): Promise<"saved" | "noted" | "absent" | undefined> {
  const stored = await saveIfStored(context, recording, goneButStored(egressId));
  if (stored === "saved") return "saved";
  if (stored !== "absent") return undefined;
  // A stream-only recording asked to stop whose egress LiveKit no longer knows: its streams are
  // over, and there is no file to wait for.
  if (!storesObjects(recording) && recording.status === "stopping") {
    await stopped(
      context,
      recording,
      `egress ${egressId} is gone from LiveKit after the stop: its streams are over`,
    );
    return "noted";
  }
  if (hasWaitNote(recording, "unknownEgress")) return "absent";
  await context.store.annotate(
    recording.id,
    `${WAIT_NOTES.unknownEgress} ${egressId} (purged, or LiveKit lost its data) and its file is not in storage yet: still waiting for it`,
  );
  return "noted";
}

/**
 * Stops an egress recfleet no longer wants (its recording failed, was given up, or has another
 * egress). Never throws: an egress that already ended or is gone is what we want; any other
 * failure is logged and the orphan sweep tries again.
 */
export async function stopUnwantedEgress(
  context: RecorderContext,
  egressId: string,
  why: string,
): Promise<boolean> {
  try {
    await stopEgress(context, egressId);
    context.logger.info({ egressId, why }, "stopped an egress recfleet no longer wants");
    return true;
  } catch (error) {
    const failure = classifyEgressError(error);
    if (failure.class === "already_ended" || failure.class === "not_found") return false;
    context.logger.warn(
      { egressId, why, err: failure },
      "could not stop an unwanted egress: the orphan sweep retries",
    );
    return false;
  }
}
