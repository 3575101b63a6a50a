// The recording state machine: the one table every app obeys. docs/recording-states.md is
// generated from it.

export const STATUSES = [
  "queued",
  "starting",
  "active",
  "stopping",
  "stopped",
  "saved",
  "notified",
  "failed",
  "cancelled",
  "deleted",
  "expired",
] as const;
export type RecordingStatus = (typeof STATUSES)[number];

/** What each status means, for people reading the API, the dashboard and the docs. */
export const STATUS_MEANING: Record<RecordingStatus, string> = {
  queued: "accepted; the start job waits for a recorder",
  starting: "a recorder is asking LiveKit Egress to start (retried while the egress fleet is full)",
  active: "egress is recording",
  stopping: "stop requested from egress; its files are being finished and uploaded",
  stopped:
    "egress ended; its files are not all seen in storage yet (a stream-only recording, which stores nothing, is told to its owner next)",
  saved:
    "every final file (the file, the closed HLS playlist and its segments, the thumbnails' index) is confirmed in storage",
  notified:
    "the owner was emailed the download links, or that the live stream ended (or there was nobody to email)",
  failed: "ended without a usable file, or the notification could not be delivered; see error.code",
  cancelled: "stopped before it started; nothing was recorded",
  deleted: "deleted through the API: its files are removed from storage; the record stays as a tombstone",
  expired: "kept until expiresAt, then its files were removed from storage",
};

/**
 * Allowed transitions. Later states may be reached directly because signals race: the file can
 * land in storage before the egress_ended webhook, a webhook can beat the start handler.
 */
export const TRANSITIONS: Record<RecordingStatus, readonly RecordingStatus[]> = {
  queued: ["starting", "cancelled", "failed"],
  starting: ["active", "stopping", "stopped", "saved", "cancelled", "failed"],
  active: ["stopping", "stopped", "saved", "failed"],
  stopping: ["stopped", "saved", "failed"],
  // A stream-only recording has nothing to save: once its egress ended, its owner is told.
  stopped: ["saved", "notified", "failed"],
  saved: ["notified", "failed", "deleted", "expired"],
  notified: ["deleted", "expired"],
  failed: ["deleted", "expired"],
  cancelled: ["deleted"],
  deleted: [],
  expired: ["deleted"],
};

/** States in which a recording holds its room: one recording per room and kind at a time. */
export const IN_PROGRESS: readonly RecordingStatus[] = ["queued", "starting", "active", "stopping"];

/**
 * States in which the pipeline is done with a recording; records then stay in Redis for the
 * retention. Only deletion and expiry (of the files) may still follow.
 */
export const FINAL: readonly RecordingStatus[] = ["notified", "failed", "cancelled", "deleted", "expired"];

/** States from which a recording's files are removed at once when it is deleted. */
export const DELETABLE: readonly RecordingStatus[] = ["saved", "notified", "failed", "cancelled", "expired"];

export function canTransition(from: RecordingStatus, to: RecordingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isInProgress(status: RecordingStatus): boolean {
  return IN_PROGRESS.includes(status);
}

export function isFinal(status: RecordingStatus): boolean {
  return FINAL.includes(status);
}
