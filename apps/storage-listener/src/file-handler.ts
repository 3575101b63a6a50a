import type { JobProducer } from "@recfleet/queues";
import type { RecordingStore } from "@recfleet/recordings";
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
  /** Where recording files land: egress' storage prefix joined with STORAGE_PREFIX. */
  prefix: string;
  metrics: ListenerMetrics;
  logger: Logger;
}

/**
 * Statuses from which a file landing in storage means the recording is saved: egress uploads
 * only once it has ended, so a file for a recording still starting or recording is not its own
 * yet (or its end was missed: the reconciler asks LiveKit, and a re-scan finds the file again).
 */
const WAITING_FOR_FILE = new Set(["stopping", "stopped"]);
const STILL_RECORDING = new Set(["starting", "active"]);

/**
 * Handles one object seen in the bucket, from an event or a re-scan: the file recfleet asked
 * egress for — exactly its key, with its container's content type — moves the recording to
 * `saved` and queues its email; any other object (a manifest, a planted or stray file) changes
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
  const recording = await store.get(parsed.recordingId);
  if (!recording) {
    metrics.ignored.inc({ reason: "unknown recording" });
    logger.debug({ key: parsed.key, source }, "ignored: no such recording (expired or foreign)");
    return "unknown";
  }
  const { output } = recording;
  const refusal = !output
    ? "not started"
    : output.key !== parsed.key
      ? "not the file recfleet asked for"
      : object.contentType !== null && object.contentType !== output.contentType
        ? "wrong content type"
        : STILL_RECORDING.has(recording.status)
          ? "recording still running"
          : undefined;
  if (refusal) {
    metrics.ignored.inc({ reason: refusal });
    logger.warn(
      {
        recordingId: recording.id,
        status: recording.status,
        key: parsed.key,
        expected: output?.key,
        contentType: object.contentType,
        source,
      },
      `an object named like a recording file was ignored: ${refusal}`,
    );
    return "ignored";
  }
  let status = recording.status;
  if (output && WAITING_FOR_FILE.has(status)) {
    const result = await store.transition(recording.id, "saved", {
      reason: source === "event" ? "file landed in storage" : "file found in storage by a re-scan",
      file: {
        bucket: output.bucket,
        key: output.key,
        size: object.size,
        etag: object.etag,
        contentType: output.contentType,
      },
    });
    status = result.ok || result.reason === "illegal" ? result.recording.status : status;
  }
  if (status === "deleted" || status === "expired") {
    // Its files are gone by design: this one came late (a retried upload). The recorder removes it.
    await deps.producer.enqueue("late-file", { recordingId: recording.id, key: parsed.key });
    metrics.ignored.inc({ reason: `recording ${status}` });
    logger.warn(
      { recordingId: recording.id, status, key: parsed.key, source },
      "a file landed for a recording already gone: removing it",
    );
    return "removing";
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
