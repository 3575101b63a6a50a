import {
  hasWaitNote,
  type Recording,
  type RecordingOutput,
  type StoredFile,
  WAIT_NOTES,
} from "@recfleet/recordings";
import { withTimeout } from "@recfleet/runtime";
import type { RecorderContext } from "./context.ts";
import { stopEgress } from "./egress-calls.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { outputOf } from "./start-request.ts";

/** Where the recording's file should land, as recfleet asked egress for it. */
export function expectedOutput(context: RecorderContext, recording: Recording): RecordingOutput {
  return outputOf(recording, context.profiles, context.storage);
}

type Lookup = { found: StoredFile } | "absent" | "unknown";

async function statFile(
  context: RecorderContext,
  recording: Recording,
  where: { bucket: string; key: string },
  contentType: string,
): Promise<Lookup> {
  try {
    const stat = await withTimeout(
      context.minio.statObject(where.bucket, where.key),
      context.storage.requestTimeoutMs,
      "statObject",
    );
    return {
      found: {
        bucket: where.bucket,
        key: where.key,
        size: stat.size,
        etag: stat.etag,
        contentType: (stat.metaData["content-type"] as string | undefined) ?? contentType,
      },
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "NotFound" || code === "NoSuchKey") return "absent";
    context.logger.warn(
      { recordingId: recording.id, bucket: where.bucket, err: { message: (error as Error).message } },
      "statObject failed",
    );
    return "unknown";
  }
}

/**
 * The recording's file in storage: found, absent, or unknown (storage did not answer). Only the
 * keys recfleet asked egress for are looked at (the primary one, then the backup one when
 * configured), never one a webhook or an event named.
 */
export async function findRecordingFile(context: RecorderContext, recording: Recording): Promise<Lookup> {
  const output = expectedOutput(context, recording);
  const primary = await statFile(context, recording, output, output.contentType);
  if (primary !== "absent" || !output.backup) return primary;
  return statFile(context, recording, output.backup, output.contentType);
}

/**
 * Saves the recording when its file is in storage: "saved", "not saved" (another signal moved it
 * first), "absent", or "unknown" while storage does not answer.
 */
export async function saveIfStored(
  context: RecorderContext,
  recording: Recording,
  reason: string,
): Promise<"saved" | "not saved" | "absent" | "unknown"> {
  const file = await findRecordingFile(context, recording);
  if (file === "unknown" || file === "absent") return file;
  return (await saveWithFile(context, recording, file.found, reason)) ? "saved" : "not saved";
}

/** Why a recording whose egress LiveKit forgot was saved all the same. */
export const goneButStored = (egressId: string) =>
  `egress ${egressId} is gone from LiveKit; its file is in storage`;

/** Marks a recording saved with its file and queues the email (the job id de-duplicates). */
export async function saveWithFile(
  context: RecorderContext,
  recording: Recording,
  file: StoredFile,
  reason: string,
): Promise<boolean> {
  const saved = await context.store.transition(recording.id, "saved", { reason, file });
  if (saved.ok) await context.producer.enqueue("recording-saved", { recordingId: recording.id });
  return saved.ok;
}

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
