import type { JobProducer } from "@recfleet/queues";
import { contentTypeOf, type RecordingStore } from "@recfleet/recordings";
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
  prefix: string;
  metrics: ListenerMetrics;
  logger: Logger;
}

/** Statuses from which a file landing in storage means the recording is saved. */
const WAITING_FOR_FILE = new Set(["starting", "active", "stopping", "stopped"]);

/**
 * Handles one object seen in the bucket, from an event or a re-scan: a recording's file moves it
 * to `saved` and queues its email. Idempotent: replicas, re-deliveries and re-scans converge on
 * one `recording-saved` job (its id derives from the recording id).
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
  let status = recording.status;
  if (WAITING_FOR_FILE.has(status)) {
    const result = await store.transition(recording.id, "saved", {
      reason: source === "event" ? "file landed in storage" : "file found in storage by a re-scan",
      file: {
        key: parsed.key,
        size: object.size,
        etag: object.etag,
        contentType: object.contentType ?? contentTypeOf(parsed.key),
      },
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
