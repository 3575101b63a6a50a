import {
  type FailureCode,
  type Recording,
  type RecordingOutput,
  type StoredFile,
  type StreamResult,
  storesObjects,
} from "./model.ts";
import type { RecordingStatus } from "./states.ts";
import type { RecordingStore } from "./store.ts";
import { scrubStreamUrls, shownReportedUrl } from "./stream-urls.ts";

/** LiveKit's EgressStatus names. */
export type EgressStatusName =
  | "EGRESS_STARTING"
  | "EGRESS_ACTIVE"
  | "EGRESS_ENDING"
  | "EGRESS_COMPLETE"
  | "EGRESS_FAILED"
  | "EGRESS_ABORTED"
  | "EGRESS_LIMIT_REACHED";

/** EgressStatus names by their protocol number. */
export const EGRESS_STATUS_NAMES = [
  "EGRESS_STARTING",
  "EGRESS_ACTIVE",
  "EGRESS_ENDING",
  "EGRESS_COMPLETE",
  "EGRESS_FAILED",
  "EGRESS_ABORTED",
  "EGRESS_LIMIT_REACHED",
] as const satisfies readonly EgressStatusName[];

/** The fields of LiveKit's EgressInfo a report needs (structural: no protocol dependency here). */
export interface EgressInfoLike {
  egressId: string;
  status: number;
  error: string;
  /** Egress' "End reason: …" (SetEndReason). */
  details: string;
  fileResults: readonly { filename: string; size: bigint; location: string }[];
  /** Nanoseconds since the epoch; 0 when not set. */
  updatedAt: bigint;
  streamResults: readonly {
    url: string;
    status: number;
    startedAt: bigint;
    endedAt: bigint;
    error: string;
    retries: number;
  }[];
  /** The upload to the primary storage failed and egress wrote the file to its backup storage. */
  backupStorageUsed: boolean;
}

/** The end reason egress gives when its source went away: for a room composite, the room closed. */
export const END_REASON_SOURCE_CLOSED = "End reason: Source closed";
/**
 * EgressInfo.error of an egress aborted before anyone published (livekit/egress: stopped, or
 * its session limit hit, while it waited for the start signal).
 */
const NO_START_SIGNAL_ERRORS = new Set([
  "Start signal not received",
  "Session limit reached before start signal",
]);

/** What LiveKit says about an egress, from a webhook or from ListEgress. */
export interface EgressReport {
  egressId: string;
  status: EgressStatusName;
  error: string;
  /** Egress' end reason ("End reason: Source closed" …), empty while it runs. */
  details: string;
  /** The first file result, once the egress has ended. */
  file?: { filename: string; size: number | null; location: string };
  backupStorageUsed: boolean;
  /** Each stream URL's state, URLs and errors redacted. */
  streams: StreamResult[];
  /** When egress wrote this report (ISO); null when it did not say. */
  updatedAt: string | null;
}

export interface ReportOutcome {
  /** The recording after the report (unchanged when the report brought nothing new). */
  recording: Recording;
  changed: boolean;
  /** Set when the report failed the recording: the caller queues the failure email. */
  failed?: FailureCode;
  /** A stream-only recording's egress ended: nothing will land, the caller queues `stream-ended`. */
  streamEnded?: boolean;
  /**
   * The report named a file other than the one recfleet asked for: it was not taken (the caller
   * logs it). A signed webhook can still be wrong; the bucket decides what is saved.
   */
  refusedFilename?: string;
}

const STREAM_STATUSES = ["active", "finished", "failed"] as const;

function isoOfNanos(nanos: bigint): string | null {
  return nanos > 0n ? new Date(Number(nanos / 1_000_000n)).toISOString() : null;
}

/** The report an EgressInfo (webhook or ListEgress) makes; undefined for an unknown status. */
export function egressReportOf(info: EgressInfoLike): EgressReport | undefined {
  const status = EGRESS_STATUS_NAMES[info.status];
  if (!status) return undefined;
  const result = info.fileResults[0];
  const file =
    result && result.filename !== ""
      ? {
          filename: result.filename,
          size: result.size > 0n ? Number(result.size) : null,
          location: result.location,
        }
      : undefined;
  // Egress names a stream's URL in its errors (SRT ones whole): nothing from it is kept unredacted.
  return {
    egressId: info.egressId,
    status,
    error: scrubStreamUrls(info.error),
    details: scrubStreamUrls(info.details),
    streams: info.streamResults.map((stream) => ({
      url: shownReportedUrl(stream.url),
      status: STREAM_STATUSES[stream.status] ?? "active",
      startedAt: isoOfNanos(stream.startedAt),
      endedAt: isoOfNanos(stream.endedAt),
      error: stream.error === "" ? null : scrubStreamUrls(stream.error),
      retries: stream.retries,
    })),
    updatedAt: isoOfNanos(info.updatedAt),
    ...(file ? { file } : {}),
    backupStorageUsed: info.backupStorageUsed,
  };
}

/** Once the file is confirmed in storage, a late egress failure must not hide it. */
const FAILABLE_BY_EGRESS = ["starting", "active", "stopping", "stopped"] as const;

// What egress uploads each container with (livekit/egress pkg/types/types.go).
const CONTENT_TYPES: Record<string, string> = {
  mp4: "video/mp4",
  ogg: "audio/ogg",
  webm: "video/webm",
  mp3: "audio/mpeg",
};

export function contentTypeOf(key: string): string | null {
  return CONTENT_TYPES[key.split(".").pop()?.toLowerCase() ?? ""] ?? null;
}

/**
 * The file an ended egress reports, as recfleet expects it: in the bucket and under the key it
 * asked for (the backup ones when egress says it used its backup storage). Undefined when the
 * report names no file; "refused" when it names another one.
 */
function reportedFile(
  report: EgressReport,
  output: RecordingOutput | null,
): StoredFile | "refused" | "in_unread_backup" | undefined {
  const planned = output?.file;
  if (!report.file || !output || !planned) return undefined;
  if (report.file.filename !== planned.filepath) return "refused";
  const where = report.backupStorageUsed ? planned.backup : { bucket: output.bucket, key: planned.key };
  if (!where) return "in_unread_backup";
  return { ...where, size: report.file.size, etag: null, contentType: planned.contentType };
}

/** A location from a report, fit for a timeline: one line, bounded. */
function shortLocation(location: string | undefined): string {
  const oneLine = [...(location ?? "")]
    .filter((char) => char >= " " && char !== "\u007f")
    .join("")
    .slice(0, 300);
  return oneLine === "" ? "a location egress did not report" : oneLine;
}

/**
 * Applies an egress status to its recording: the one mapping shared by the webhook intake and
 * the reconciler. A report about a state the recording has already passed changes nothing.
 */
export async function applyEgressReport(
  store: RecordingStore,
  recording: Recording,
  report: EgressReport,
  source: string,
): Promise<ReportOutcome> {
  let to: RecordingStatus | undefined;
  let reason = "";
  let failed: FailureCode | undefined;
  switch (report.status) {
    case "EGRESS_STARTING":
      return { recording, changed: false };
    case "EGRESS_ACTIVE":
      to = "active";
      reason = `egress ${report.egressId} is recording (${source})`;
      break;
    case "EGRESS_ENDING":
      to = "stopping";
      reason = `egress ${report.egressId} is finishing the file (${source})`;
      break;
    case "EGRESS_COMPLETE":
      to = "stopped";
      reason = `egress ${report.egressId} complete (${source})`;
      break;
    case "EGRESS_LIMIT_REACHED":
      to = "stopped";
      reason = `limit_reached: egress ${report.egressId} hit its duration limit (${source})`;
      break;
    case "EGRESS_FAILED":
      to = "failed";
      failed = "egress_failed";
      reason = `egress ${report.egressId} failed: ${report.error || "no reason given"} (${source})`;
      break;
    case "EGRESS_ABORTED":
      if (
        recording.status === "starting" &&
        (recording.stopRequested || report.details === END_REASON_SOURCE_CLOSED)
      ) {
        // Stopped, or its room closed, before egress began recording: nothing was recorded,
        // and nothing went wrong.
        const cancelled = await store.transition(recording.id, "cancelled", {
          reason: recording.stopRequested
            ? `stopped before egress ${report.egressId} began recording (${source})`
            : `room "${recording.room}" closed before egress ${report.egressId} began recording (${source})`,
          onlyFrom: ["starting"],
        });
        if (cancelled.ok) return { recording: cancelled.recording, changed: true };
      }
      to = "failed";
      if (NO_START_SIGNAL_ERRORS.has(report.error)) {
        // Nobody published: whoever ended the wait (the reconciler's deadline, egress' session
        // limit), the recording fails the same way, whichever of webhook and reconciler is first.
        failed = "no_start_signal";
        reason = `nobody published in room "${recording.room}", so egress ${report.egressId} never began recording: ${report.error} (${source})`;
      } else {
        failed = "egress_aborted";
        reason = `egress ${report.egressId} was aborted: ${report.error || "no reason given"} (${source})`;
      }
      break;
  }
  const reported = to === "stopped" ? reportedFile(report, recording.output) : undefined;
  if (reported === "in_unread_backup") {
    to = "failed";
    failed = "stored_in_backup";
    reason = `egress ${report.egressId} could not upload to storage and wrote the file to its backup storage (${shortLocation(report.file?.location)}), which recfleet does not read (STORAGE_EGRESS_BACKUP_BUCKET is not set) (${source})`;
  }
  const file = typeof reported === "object" ? reported : undefined;
  if (file && report.backupStorageUsed) reason += `; its file went to the backup storage ${file.bucket}`;
  const refusedFilename = reported === "refused" ? report.file?.filename : undefined;
  const streams = newerStreams(recording, report);
  const result = await store.transition(recording.id, to, {
    reason,
    ...(failed ? { onlyFrom: FAILABLE_BY_EGRESS } : {}),
    ...(file && recording.file === null ? { file } : {}),
    ...(failed
      ? { error: { code: failed, message: failed === "no_start_signal" ? reason : report.error || reason } }
      : {}),
    ...(streams ? { streams } : {}),
  });
  if (!result.ok) {
    let current = result.reason === "illegal" ? result.recording : recording;
    // Same status, news about its streams (one started, failed, was removed): kept all the same.
    if (result.reason === "illegal" && newerStreams(current, report)) {
      const updated = await store.recordStreams(current.id, report.streams, report.updatedAt, source);
      if (updated.ok) current = updated.recording;
    }
    // A repeat of a failure still reports it, so a crash before the email was queued heals.
    const repeatFailure =
      failed && current.status === "failed" && current.error?.code === failed ? failed : undefined;
    return {
      recording: current,
      changed: false,
      ...(repeatFailure ? { failed: repeatFailure } : {}),
      ...(refusedFilename ? { refusedFilename } : {}),
    };
  }
  return {
    recording: result.recording,
    changed: true,
    ...(failed ? { failed } : {}),
    ...(refusedFilename ? { refusedFilename } : {}),
    ...(to === "stopped" && !storesObjects(recording) ? { streamEnded: true } : {}),
  };
}

/** The report's stream results with their time, when they are newer than the recording's. */
function newerStreams(
  recording: Recording,
  report: EgressReport,
): { results: StreamResult[]; asOf: string | null } | undefined {
  if (report.streams.length === 0 && recording.streams.length === 0) return undefined;
  if (
    recording.streamsAsOf !== null &&
    (report.updatedAt === null || report.updatedAt < recording.streamsAsOf)
  ) {
    return undefined;
  }
  if (JSON.stringify(report.streams) === JSON.stringify(recording.streams)) return undefined;
  return { results: report.streams, asOf: report.updatedAt };
}
