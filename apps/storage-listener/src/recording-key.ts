import { recordingIdSchema } from "@recfleet/recordings";

export interface RecordingKey {
  recordingId: string;
  /** A file `<prefix>/<id>.<mp4|ogg|webm>`, or an object in the recording's directory `<prefix>/<id>/`. */
  place: "file" | "directory";
  /** The key as stored (decoded when the event carried it URL-encoded). */
  key: string;
}

function match(key: string, prefix: string): RecordingKey | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const name = key.slice(prefix.length + 1);
  const found = /^([0-9a-f-]{36})(?:\.(?:mp4|ogg|webm)|(\/)[^/]+)$/.exec(name);
  if (!found?.[1] || !recordingIdSchema.safeParse(found[1]).success) return undefined;
  return { recordingId: found[1], place: found[2] ? "directory" : "file", key };
}

/**
 * Matches `<prefix>/<recordingId>.<mp4|ogg|webm>` and `<prefix>/<recordingId>/<name>`. The listen
 * API sends keys raw; MinIO's configured targets send them query-escaped (`a+b%2Fc.mp4`), so an
 * escaped key is accepted too.
 */
export function parseRecordingKey(key: string, prefix: string): RecordingKey | undefined {
  const raw = match(key, prefix);
  if (raw || !/[%+]/.test(key)) return raw;
  try {
    return match(decodeURIComponent(key.replace(/\+/g, " ")), prefix);
  } catch {
    return undefined;
  }
}
