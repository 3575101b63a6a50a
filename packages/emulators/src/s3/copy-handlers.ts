// Server-side copies: CopyObject (PUT with x-amz-copy-source) and UploadPartCopy, as MinIO
// answers them: the source read under its conditions, metadata copied or replaced.
import { createReadStream } from "node:fs";
import { MAX_SINGLE_UPLOAD_BYTES } from "./body.ts";
import { requireBucket } from "./bucket-handlers.ts";
import { algorithmNamed, type ChecksumAlgorithm, checksumElement } from "./checksums.ts";
import type { S3Core, S3Request } from "./context.ts";
import { sendXml } from "./context.ts";
import { S3Error } from "./errors.ts";
import { checkPreconditions, first, parseRange, userDefinedFromHeaders } from "./http-semantics.ts";
import { eventObject, refuseUnsupportedObjectFeatures } from "./object-metadata.ts";
import type { ObjectMeta, ReceivedBody } from "./store.ts";
import { document, el } from "./xml.ts";

interface CopySource {
  bucket: string;
  key: string;
  meta: ObjectMeta;
}

/** `x-amz-copy-source: /bucket/key[?versionId=null]`, URL-encoded, read and checked. */
function copySource(core: S3Core, request: S3Request): CopySource {
  const raw = first(request.req.headers, "x-amz-copy-source");
  if (raw === undefined) throw new S3Error("InvalidCopySource");
  const [path = "", query = ""] = raw.split("?", 2);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path).replace(/^\//, "");
  } catch {
    throw new S3Error("InvalidCopySource");
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error("InvalidCopySource");
  const versionId = new URLSearchParams(query).get("versionId");
  // Buckets here are unversioned: only the "null" version exists.
  if (versionId !== null && versionId !== "null") throw new S3Error("InvalidVersionId");
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  const meta = core.store.requireObject(bucket, key);
  const conditions: Record<string, string | undefined> = {};
  for (const name of ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]) {
    conditions[name] = first(request.req.headers, `x-amz-copy-source-${name}`);
  }
  // A copy has no 304: any condition that does not hold fails it.
  if (checkPreconditions(conditions, meta.etag, new Date(meta.lastModified)) !== "ok") {
    throw new S3Error("PreconditionFailed");
  }
  return { bucket, key, meta };
}

/** Reads the source's bytes (or a range) into a received body; NoSuchKey when it went meanwhile. */
async function receiveSource(
  core: S3Core,
  source: CopySource,
  range: { start: number; end: number } | undefined,
  checksum: ChecksumAlgorithm | undefined,
): Promise<ReceivedBody> {
  const path = core.store.dataPath(source.bucket, source.meta);
  try {
    return await core.store.receive(
      range ? createReadStream(path, range) : createReadStream(path),
      MAX_SINGLE_UPLOAD_BYTES,
      checksum ? { checksum } : {},
    );
  } catch (error) {
    // Deleted or replaced between its lookup and its read.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new S3Error("NoSuchKey");
    throw error;
  }
}

function checksumXml(meta: ObjectMeta | { checksum?: ObjectMeta["checksum"] }): string {
  return meta.checksum ? el(checksumElement(meta.checksum.algorithm), meta.checksum.value) : "";
}

/** CopyObject: the source's bytes under the destination key; metadata COPY (default) or REPLACE. */
export async function copyObject(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  refuseUnsupportedObjectFeatures(request);
  const source = copySource(core, request);
  if (source.meta.size > MAX_SINGLE_UPLOAD_BYTES) throw new S3Error("EntityTooLarge");
  const directive = String(request.req.headers["x-amz-metadata-directive"] ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") {
    throw new S3Error("InvalidArgument", { message: "Unknown metadata directive." });
  }
  if (directive === "COPY" && source.bucket === request.bucket && source.key === request.key) {
    throw new S3Error("CopyToItself");
  }
  const userDefined =
    directive === "REPLACE"
      ? userDefinedFromHeaders(request.req.headers, request.key)
      : { ...source.meta.userDefined };
  const asked = request.req.headers["x-amz-checksum-algorithm"];
  const algorithm = typeof asked === "string" ? algorithmNamed(asked) : undefined;
  if (typeof asked === "string" && !algorithm) throw new S3Error("InvalidChecksum");
  const copied = source.meta.checksum?.type === "FULL_OBJECT" ? source.meta.checksum.algorithm : undefined;
  const checksum = algorithm ?? copied;
  const body = await receiveSource(core, source, undefined, checksum);
  const meta = await core.store.putObject(request.bucket, request.key, body, userDefined);
  sendXml(
    core,
    request,
    document(
      "CopyObjectResult",
      el("LastModified", meta.lastModified),
      el("ETag", `"${meta.etag}"`),
      checksumXml(meta),
    ),
  );
  core.publish("s3:ObjectCreated:Copy", request, request.bucket, eventObject(meta));
}

/** UploadPartCopy: a part made of the source's bytes, or of `x-amz-copy-source-range`. */
export async function uploadPartCopy(
  core: S3Core,
  request: S3Request,
  uploadId: string,
  partNumber: number,
): Promise<void> {
  const source = copySource(core, request);
  const rangeHeader = request.req.headers["x-amz-copy-source-range"];
  let start = 0;
  let end = source.meta.size - 1;
  if (rangeHeader !== undefined) {
    const range = parseRange(String(rangeHeader), source.meta.size);
    // The range must name both ends and lie within the source (MinIO: ErrInvalidCopyPartRange).
    if (range.kind !== "partial" || !/^bytes=\d+-\d+$/.test(String(rangeHeader))) {
      throw new S3Error("InvalidRange");
    }
    start = range.start;
    end = range.end;
  }
  if (end - start + 1 > MAX_SINGLE_UPLOAD_BYTES) throw new S3Error("EntityTooLarge");
  const upload = core.store.requireUpload(uploadId, request.bucket, request.key);
  const algorithm = upload.checksum?.algorithm;
  const body = await receiveSource(
    core,
    source,
    source.meta.size === 0 ? undefined : { start, end },
    algorithm,
  );
  const part = await core.store.putPart(upload.uploadId, partNumber, body);
  sendXml(
    core,
    request,
    document(
      "CopyPartResult",
      el("LastModified", part.lastModified),
      el("ETag", `"${part.etag}"`),
      part.checksum ? el(checksumElement(part.checksum.algorithm), part.checksum.value) : "",
    ),
    200,
  );
}
