import { DELETABLE, dirOf, isInProgress, manifestKeyIn, type Recording } from "@recfleet/recordings";
import { withTimeout } from "@recfleet/runtime";
import type { RecorderContext } from "./context.ts";

/**
 * Every object a recording may have in storage at known keys: the file seen, where egress was
 * asked to write it, its backup, and the manifest egress writes beside it (`<dir>/<egressId>.json`).
 */
function objectsOf(context: RecorderContext, recording: Recording): { bucket: string; key: string }[] {
  const objects = new Map<string, { bucket: string; key: string }>();
  const add = (bucket: string, key: string) => objects.set(`${bucket}\n${key}`, { bucket, key });
  if (recording.file) add(recording.file.bucket ?? context.storage.bucket, recording.file.key);
  const { output } = recording;
  if (output?.file) {
    add(output.bucket, output.file.key);
    if (output.file.backup) add(output.file.backup.bucket, output.file.backup.key);
    if (recording.egressId) add(output.bucket, manifestKeyIn(dirOf(output.file.key), recording.egressId));
  }
  return [...objects.values()];
}

/** The directory `<prefix>/<id>/` a recording's playlists, segments and images land in, if any. */
function directoryOf(recording: Recording): { bucket: string; prefix: string } | undefined {
  const { output } = recording;
  const key = output?.hls?.playlistKey ?? output?.images?.dir;
  return output && key ? { bucket: output.bucket, prefix: dirOf(key) } : undefined;
}

/** DeleteObject with the storage timeout; S3 answers success for a key that is not there. */
function removeObject(
  context: RecorderContext,
  { bucket, key }: { bucket: string; key: string },
): Promise<void> {
  return withTimeout(
    context.minio.removeObject(bucket, key),
    context.storage.requestTimeoutMs,
    `removing ${bucket}/${key}`,
  );
}

/**
 * `late-file`: an object landed for a recording whose files are gone by design (deleted,
 * expired). Removes it when it is one of the recording's own objects, and says so on the timeline.
 */
export async function removeLateFile(
  context: RecorderContext,
  recordingId: string,
  key: string,
): Promise<string> {
  const recording = await context.store.get(recordingId);
  if (!recording) return "missing";
  if (recording.status !== "deleted" && recording.status !== "expired")
    return `kept: recording is ${recording.status}`;
  const directory = directoryOf(recording);
  const object =
    objectsOf(context, recording).find((candidate) => candidate.key === key) ??
    (directory && key.startsWith(directory.prefix) ? { bucket: directory.bucket, key } : undefined);
  if (!object) return "kept: not one of the recording's objects";
  // A late report of an object already removed (a re-scan listed it just before the deletion)
  // changes nothing and is no news for the timeline.
  if ((await context.reader.stat(object.bucket, object.key)) === null) return "already gone";
  await removeObject(context, object);
  await context.store.annotate(
    recording.id,
    `${object.key} landed in storage after the recording was ${recording.status}: removed`,
  );
  context.logger.info({ recordingId, key: object.key, status: recording.status }, "late file removed");
  return "removed";
}

/**
 * Removes a recording's objects. S3's DeleteObject answers success for a key that is not there,
 * so this is safe to repeat; any other error (storage away) throws and the caller retries.
 */
export async function removeFiles(context: RecorderContext, recording: Recording): Promise<number> {
  const objects = objectsOf(context, recording);
  for (const object of objects) await removeObject(context, object);
  const directory = directoryOf(recording);
  if (!directory) return objects.length;
  // Segments and thumbnails run to thousands: DeleteObjects takes up to 1,000 keys a call.
  const keys = [...(await context.reader.list(directory.bucket, directory.prefix)).keys()];
  // An egress that failed before writing anything leaves an empty directory: nothing to send.
  if (keys.length === 0) return objects.length;
  const failed = (
    await withTimeout(
      context.minio.removeObjects(directory.bucket, keys),
      context.storage.requestTimeoutMs * Math.max(1, Math.ceil(keys.length / 1000)),
      `removing ${keys.length} objects under ${directory.bucket}/${directory.prefix}`,
    )
  ).filter((result) => result?.Error !== undefined);
  if (failed.length > 0) {
    const first = failed[0]?.Error;
    throw new Error(
      `${failed.length} of ${keys.length} objects under ${directory.prefix} were not removed (${first?.Key}: ${first?.Code} ${first?.Message})`,
    );
  }
  return objects.length + keys.length;
}

export type DeletionOutcome =
  | "deleted"
  | "waiting for egress"
  | "missing"
  | "already deleted"
  | "not requested";

/**
 * Finishes the deletion DELETE asked for: once egress can no longer write the files (the
 * recording is no longer in progress and not waiting for its file), removes them and marks the
 * recording deleted. Until then it answers "waiting for egress" and changes nothing.
 */
export async function finishDeletion(
  context: RecorderContext,
  recordingId: string,
): Promise<DeletionOutcome> {
  const recording = await context.store.get(recordingId);
  if (!recording) return "missing";
  if (recording.status === "deleted") return "already deleted";
  if (!recording.deleteRequested) return "not requested";
  if (isInProgress(recording.status) || recording.status === "stopped") return "waiting for egress";
  const removed = await removeFiles(context, recording);
  const by = recording.deleteRequested.tenant;
  const result = await context.store.transition(recordingId, "deleted", {
    reason: `deleted through the API by tenant ${by}: ${removed === 0 ? "it had no files" : `${removed} object${removed === 1 ? "" : "s"} removed from storage`}`,
    onlyFrom: DELETABLE,
  });
  if (result.ok) return "deleted";
  if (result.reason === "illegal" && result.recording.status === "deleted") return "already deleted";
  // Not applied (the record vanished, or reached a status deletion cannot apply to): the next
  // run looks again.
  return "waiting for egress";
}

/**
 * The expiry sweep: removes the files of recordings whose expiresAt has come and marks them
 * expired. A recording being deleted is left to its deletion.
 */
export async function expireDue(context: RecorderContext, limit = 100): Promise<number> {
  let expired = 0;
  for (const id of await context.store.dueForExpiry(context.now(), limit)) {
    const recording = await context.store.get(id);
    if (!recording || recording.status === "deleted" || recording.status === "expired") {
      await context.store.dropFromSweeps(id);
      continue;
    }
    if (recording.deleteRequested) continue;
    await removeFiles(context, recording);
    const result = await context.store.transition(id, "expired", {
      reason: `expired: kept ${recording.expireDays} day${recording.expireDays === 1 ? "" : "s"} after it was saved; its files were removed from storage`,
      onlyFrom: ["saved", "notified", "failed"],
    });
    if (result.ok) expired += 1;
  }
  return expired;
}
