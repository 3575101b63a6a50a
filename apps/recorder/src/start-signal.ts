import type { Recording } from "@recfleet/recordings";

/**
 * What a recording's egress waits for before it records, in words for its timeline: someone
 * publishing in the room (egress' template or SDK source), its track, or its page.
 */
export function awaitedSignal(recording: Recording): string {
  const { source } = recording;
  switch (source.type) {
    case "web":
      return source.awaitStartSignal
        ? `the page ${source.url} logs START_RECORDING`
        : `the page ${source.url} has loaded`;
    case "track":
      return `track ${source.trackId} is published in room "${recording.room}"`;
    default:
      return `someone publishes in room "${recording.room}"`;
  }
}

/** Why an egress never began recording, for the no_start_signal failure. */
export function missedSignal(recording: Recording, span: string): string {
  const { source } = recording;
  if (source.type === "web") {
    return source.awaitStartSignal
      ? `the page ${source.url} did not log START_RECORDING within ${span}`
      : `the page ${source.url} did not load within ${span}`;
  }
  return `nobody published in room "${recording.room}" within ${span}`;
}
