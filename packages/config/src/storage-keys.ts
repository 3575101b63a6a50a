import { posix } from "node:path";
import type { StorageConfig } from "./schema.ts";

/**
 * Where egress writes a recording file it was asked to put at `<STORAGE_PREFIX>/<name>`: egress
 * joins its own storage prefix in front of every filepath (livekit/egress, uploader.go:
 * `path.Join(conf.Prefix, storageFilepath)`), so the bucket holds `<egress prefix>/<filepath>`.
 */
export function landedKey(egressPrefix: string, filepath: string): string {
  return egressPrefix === "" ? filepath : posix.join(egressPrefix, filepath);
}

/** The key prefix under which recording files land in the recordings bucket (no trailing '/'). */
export function recordingsKeyPrefix(storage: StorageConfig): string {
  return landedKey(storage.egressPrefix, storage.prefix);
}
