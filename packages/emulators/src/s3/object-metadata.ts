// What object handlers share: the event view of an object, checksum headers, and the object
// features this emulator refuses rather than silently drops.
import type { OutgoingHttpHeaders } from "node:http";
import { checksumHeader } from "./checksums.ts";
import type { S3Request } from "./context.ts";
import { S3Error } from "./errors.ts";
import type { EventObject } from "./events.ts";
import type { ObjectMeta, PartChecksum, StoredChecksum } from "./store.ts";

/** What an event says about an object (userMetadata keeps content-type, as MinIO's does). */
export function eventObject(meta: ObjectMeta): EventObject {
  return {
    key: meta.key,
    size: meta.size,
    etag: meta.etag,
    contentType: meta.userDefined["content-type"],
    userMetadata: meta.userDefined,
    // Documents written before nanoseconds were kept fall back to their millisecond time.
    modTimeNs:
      meta.modTimeNs !== undefined
        ? BigInt(meta.modTimeNs)
        : BigInt(Date.parse(meta.lastModified)) * 1_000_000n,
  };
}

/** The response headers that carry a stored checksum (x-amz-checksum-<algorithm>, -type). */
export function checksumHeaders(checksum: StoredChecksum | PartChecksum | undefined): OutgoingHttpHeaders {
  if (!checksum) return {};
  return {
    [checksumHeader(checksum.algorithm)]: checksum.value,
    ...("type" in checksum ? { "x-amz-checksum-type": checksum.type } : {}),
  };
}

/**
 * Object Lock, retention, legal holds and tagging are not kept here: a request that asks for
 * them is refused (501) rather than stored without them.
 */
export function refuseUnsupportedObjectFeatures(request: S3Request): void {
  for (const header of [
    "x-amz-tagging",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
  ]) {
    if (request.req.headers[header] !== undefined) {
      throw new S3Error("NotImplemented", { message: `${header} is not supported by this emulator.` });
    }
  }
}
