import type { Recording, RecordingOutput, StoredFile } from "@recfleet/recordings";
import { withTimeout } from "@recfleet/runtime";
import type { RecorderContext } from "./context.ts";
import { stopEgress } from "./egress-calls.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { failRecording } from "./outcomes.ts";
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
 * LiveKit answered 404 for the recording's egress: it ended long enough ago to be purged, or
 * LiveKit lost its records. That is an answer, not an outage: the recording is saved when its
 * file is in the bucket, and lost otherwise. Undefined while storage cannot tell.
 */
export async function settleGoneEgress(
  context: RecorderContext,
  recording: Recording,
  egressId: string,
): Promise<"saved" | "lost" | undefined> {
  const file = await findRecordingFile(context, recording);
  if (file === "unknown") return undefined;
  if (file !== "absent") {
    await saveWithFile(
      context,
      recording,
      file.found,
      `egress ${egressId} is gone from LiveKit; its file is in storage`,
    );
    return "saved";
  }
  await failRecording(
    context,
    recording.id,
    "lost",
    `egress ${egressId} is gone from LiveKit (purged after it ended, or LiveKit lost its data) and its file is not in storage`,
  );
  return "lost";
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
