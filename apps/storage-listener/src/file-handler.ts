import type { JobProducer } from "@recfleet/queues";
import {
  checkArtifacts,
  finalObjectContentType,
  isNumberedObject,
  type RecordingStatus,
  type RecordingStore,
  type StorageReader,
} from "@recfleet/recordings";
import type { Logger } from "@recfleet/runtime";
import type { ListenerMetrics } from "./metrics.ts";
import { parseRecordingKey } from "./recording-key.ts";

export interface ObjectSeen {
  key: string;
  size: number | null;
  etag: string | null;
  contentType: string | null;
}

export interface FileHandlerDeps {
  store: RecordingStore;
  producer: JobProducer;
  /** Reads storage when a recording's final object lands, to see whether all of them are there. */
  reader: StorageReader;
  /** The recordings bucket, which events and re-scans are about. */
  bucket: string;
  /** Where recording files land: egress' storage prefix joined with STORAGE_PREFIX. */
  prefix: string;
  metrics: ListenerMetrics;
  logger: Logger;
}

/**
 * Statuses from which a final object landing in storage can mean the recording is saved: egress
 * uploads its final objects only once it ends, so one for a recording still starting or
 * recording is not final yet (a playlist rewritten as segments land), or its end was missed:
 * the reconciler asks LiveKit, and a re-scan finds the object again.
 */
const WAITING_FOR_FILE = new Set(["stopping", "stopped"]);
const STILL_RECORDING = new Set(["starting", "active"]);

/**
 * An object landed for a recording whose objects are gone by design (a retried upload): the
 * recorder removes it if it is one of the recording's own.
 */
async function lateObject(
  deps: FileHandlerDeps,
  recordingId: string,
  status: "deleted" | "expired",
  key: string,
  source: "event" | "resync",
): Promise<string> {
  await deps.producer.enqueue("late-file", { recordingId, key });
  deps.metrics.ignored.inc({ reason: `recording ${status}` });
  deps.logger.warn(
    { recordingId, status, key, source },
    "an object landed for a recording already gone: removing it",
  );
  return "removing";
}

/**
 * Handles one object seen in the bucket, from an event or a re-scan. A final object of the
 * recording (its file, its playlist, its image manifest: exactly the keys recfleet asked egress
 * for) triggers a check of all of them, and when they are all there the recording is `saved`
 * and its email queued; segments, images and any other object (a stray or planted file) change
 * nothing. Idempotent: replicas, re-deliveries and re-scans converge on one `recording-saved`
 * job (its id derives from the recording id).
 */
export async function handleObject(
  deps: FileHandlerDeps,
  object: ObjectSeen,
  source: "event" | "resync",
): Promise<string> {
  const { store, metrics, logger } = deps;
  const parsed = parseRecordingKey(object.key, deps.prefix);
  if (!parsed) {
    metrics.ignored.inc({ reason: "not a recording key" });
    logger.debug({ key: object.key, source }, "ignored: not a recording file");
    return "ignored";
  }
  if (parsed.place === "directory" && isNumberedObject(parsed.key.slice(parsed.key.lastIndexOf("/") + 1))) {
    // A segment or a thumbnail, thousands per recording: never final, so its recording's
    // status alone says whether it matters (it does only once the recording is gone).
    const status = await store.statusOf(parsed.recordingId);
    if (status === "deleted" || status === "expired")
      return lateObject(deps, parsed.recordingId, status, parsed.key, source);
    logger.debug({ key: parsed.key, status, source }, "a segment or thumbnail: not a final object");
    return "ignored";
  }
  const recording = await store.get(parsed.recordingId);
  if (!recording) {
    metrics.ignored.inc({ reason: "unknown recording" });
    logger.debug({ key: parsed.key, source }, "ignored: no such recording (expired or foreign)");
    return "unknown";
  }
  if (recording.status === "deleted" || recording.status === "expired") {
    return lateObject(deps, recording.id, recording.status, parsed.key, source);
  }
  const contentType = finalObjectContentType(recording, parsed.key);
  const final = contentType !== undefined;
  const refusal = !recording.output
    ? "not started"
    : !final
      ? parsed.place === "file"
        ? "not the file recfleet asked for"
        : undefined
      : object.contentType !== null && object.contentType !== contentType
        ? "wrong content type"
        : STILL_RECORDING.has(recording.status)
          ? "recording still running"
          : undefined;
  if (!final || refusal) {
    // Segments, images and playlists rewritten while recording are expected: not worth a warning.
    const expected =
      parsed.place === "directory" && (refusal === undefined || refusal === "recording still running");
    if (refusal) metrics.ignored.inc({ reason: refusal });
    logger[expected ? "debug" : "warn"](
      {
        recordingId: recording.id,
        status: recording.status,
        key: parsed.key,
        expected: recording.output?.file?.key,
        contentType: object.contentType,
        source,
      },
      refusal
        ? `an object named like a recording file was ignored: ${refusal}`
        : "an object of a recording that is not one of its final ones",
    );
    return "ignored";
  }
  let status: RecordingStatus = recording.status;
  if (WAITING_FOR_FILE.has(status)) {
    const found = await checkArtifacts(recording, deps.reader, {
      bucket: deps.bucket,
      key: parsed.key,
      size: object.size,
      etag: object.etag,
      contentType: object.contentType,
    });
    if (!found.complete) {
      logger.info(
        { recordingId: recording.id, key: parsed.key, waitingFor: found.waitingFor, source },
        "a final object landed; the recording still waits for another",
      );
      return "waiting";
    }
    const result = await store.transition(recording.id, "saved", {
      reason: `${found.artifacts.length === 1 ? "file" : "files"} ${source === "event" ? "landed in storage" : "found in storage by a re-scan"}`,
      file: found.file,
      artifacts: found.artifacts,
    });
    status = result.ok || result.reason === "illegal" ? result.recording.status : status;
  }
  if (status !== "saved") {
    if (status !== "notified") {
      metrics.ignored.inc({ reason: `recording ${status}` });
      logger.warn(
        { recordingId: recording.id, status, source },
        "a file landed for a recording that does not wait for one",
      );
    }
    return status;
  }
  // Saved, by us or by another replica a moment ago: the job id makes the email unique.
  await deps.producer.enqueue("recording-saved", { recordingId: recording.id });
  metrics.matches.inc({ source });
  logger.info({ recordingId: recording.id, key: parsed.key, source }, "recording file saved");
  return "saved";
}
