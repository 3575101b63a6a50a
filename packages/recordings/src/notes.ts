import type { Recording } from "./model.ts";

/**
 * How the timeline notes that say what a recording waits for begin: the recorder writes them
 * (each once, but one capacity note per try, whose count drives the backoff), and people reading
 * a timeline, the recorder itself and the fault-injection suite recognise them by it.
 */
export const WAIT_NOTES = {
  /** Its room does not exist in LiveKit yet. */
  room: "waiting for room",
  /** Its track (a track source) is not published in the room yet. */
  track: "waiting for track",
  /** Its web source's page has not loaded or sent its start signal yet. */
  page: "waiting for the page",
  /** The egress fleet is full or did not answer: the start is retried (one note per try). */
  capacity: "egress not available",
  /** Its egress waits for a start signal: nobody shares a camera, microphone or screen yet. */
  publisher: "waiting for someone to publish",
  /** LiveKit answers 404 for its egress, and its file is not in storage yet. */
  unknownEgress: "LiveKit has no record of egress",
} as const;

export type WaitNote = keyof typeof WAIT_NOTES;

/** Whether the recording's timeline holds that note. */
export function hasWaitNote(recording: Recording, note: WaitNote): boolean {
  return recording.timeline.some((entry) => entry.reason.startsWith(WAIT_NOTES[note]));
}
