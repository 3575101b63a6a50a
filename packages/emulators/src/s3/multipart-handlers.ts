// Multipart uploads: Create, UploadPart, Complete, Abort and ListParts.
import { readXmlBody, receiveUpload } from "./body.ts";
import { requireBucket } from "./bucket-handlers.ts";
import { algorithmNamed, checksumElement } from "./checksums.ts";
import { type S3Core, type S3Request, send, sendXml } from "./context.ts";
import { uploadPartCopy } from "./copy-handlers.ts";
import { sigV4Encode } from "./encoding.ts";
import { S3Error } from "./errors.ts";
import { first, userDefinedFromHeaders } from "./http-semantics.ts";
import { OWNER } from "./names.ts";
import { checksumHeaders, eventObject, refuseUnsupportedObjectFeatures } from "./object-metadata.ts";
import type { UploadMeta } from "./store.ts";
import { document, el, group, parseCompleteMultipartUpload } from "./xml.ts";

function uploadIdOf(request: S3Request): string {
  return request.query.get("uploadId") ?? "";
}

/**
 * The checksum a multipart upload is created with (x-amz-checksum-algorithm, x-amz-checksum-type),
 * as S3 allows them: CRC64NVME whole-object only, SHA-1 and SHA-256 composite only, CRC32 and
 * CRC32C either (composite by default).
 */
function uploadChecksum(request: S3Request): UploadMeta["checksum"] {
  const algorithmText = first(request.req.headers, "x-amz-checksum-algorithm");
  const typeText = first(request.req.headers, "x-amz-checksum-type")?.toUpperCase();
  if (algorithmText === undefined) {
    if (typeText !== undefined) throw new S3Error("InvalidChecksum");
    return undefined;
  }
  const algorithm = algorithmNamed(algorithmText);
  if (!algorithm) throw new S3Error("InvalidChecksum");
  const type = typeText ?? (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE");
  if (type !== "FULL_OBJECT" && type !== "COMPOSITE") throw new S3Error("InvalidChecksum");
  const allowed =
    algorithm === "CRC64NVME"
      ? type === "FULL_OBJECT"
      : algorithm.startsWith("SHA")
        ? type === "COMPOSITE"
        : true;
  if (!allowed) throw new S3Error("InvalidChecksum");
  return { algorithm, type };
}

export async function createMultipartUpload(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  refuseUnsupportedObjectFeatures(request);
  const checksum = uploadChecksum(request);
  const upload = await core.store.createUpload(
    request.bucket,
    request.key,
    userDefinedFromHeaders(request.req.headers, request.key),
    checksum,
  );
  const headers = checksum
    ? { "x-amz-checksum-algorithm": checksum.algorithm, "x-amz-checksum-type": checksum.type }
    : {};
  send(
    core,
    request,
    200,
    { "Content-Type": "application/xml", ...headers },
    document(
      "InitiateMultipartUploadResult",
      el("Bucket", upload.bucket),
      el("Key", upload.key),
      el("UploadId", upload.uploadId),
    ),
  );
}

export async function uploadPart(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const partText = request.query.get("partNumber") ?? "";
  const partNumber = Number(partText);
  if (!/^\d+$/.test(partText) || partNumber < 1 || partNumber > 10_000)
    throw new S3Error("InvalidPartNumber");
  if (request.req.headers["x-amz-copy-source"] !== undefined) {
    return uploadPartCopy(core, request, uploadIdOf(request), partNumber);
  }
  const upload = core.store.requireUpload(uploadIdOf(request), request.bucket, request.key);
  const body = await receiveUpload(core, request, upload.checksum?.algorithm);
  const part = await core.store.putPart(upload.uploadId, partNumber, body);
  send(core, request, 200, { ETag: `"${part.etag}"`, ...checksumHeaders(part.checksum) });
}

export async function completeMultipartUpload(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const upload = core.store.requireUpload(uploadIdOf(request), request.bucket, request.key);
  const parts = parseCompleteMultipartUpload(await readXmlBody(request));
  const meta = await core.store.completeUpload(upload.uploadId, parts);
  const location = `${core.endpoint()}/${sigV4Encode(request.bucket)}/${sigV4Encode(request.key, true)}`;
  sendXml(
    core,
    request,
    document(
      "CompleteMultipartUploadResult",
      el("Location", location),
      el("Bucket", request.bucket),
      el("Key", request.key),
      el("ETag", `"${meta.etag}"`),
      meta.checksum ? el(checksumElement(meta.checksum.algorithm), meta.checksum.value) : "",
      meta.checksum ? el("ChecksumType", meta.checksum.type) : "",
    ),
  );
  core.publish("s3:ObjectCreated:CompleteMultipartUpload", request, request.bucket, eventObject(meta));
}

export async function abortMultipartUpload(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const upload = core.store.requireUpload(uploadIdOf(request), request.bucket, request.key);
  await core.store.abortUpload(upload.uploadId);
  send(core, request, 204);
}

function nonNegative(
  value: string | undefined,
  fallback: number,
  error: "InvalidMaxParts" | "InvalidPartNumberMarker",
) {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new S3Error(error);
  return Number(value);
}

export async function listParts(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const upload = core.store.requireUpload(uploadIdOf(request), request.bucket, request.key);
  const maxParts = Math.min(nonNegative(request.query.get("max-parts"), 1000, "InvalidMaxParts"), 1000);
  const marker = nonNegative(request.query.get("part-number-marker"), 0, "InvalidPartNumberMarker");
  const after = [...upload.parts.values()]
    .filter((part) => part.partNumber > marker)
    .sort((a, b) => a.partNumber - b.partNumber);
  const parts = after.slice(0, maxParts);
  const truncated = after.length > parts.length;
  const initiator = group("Initiator", el("ID", OWNER.id), el("DisplayName", OWNER.displayName));
  sendXml(
    core,
    request,
    document(
      "ListPartsResult",
      el("Bucket", request.bucket),
      el("Key", request.key),
      el("UploadId", upload.uploadId),
      initiator,
      group("Owner", el("ID", OWNER.id), el("DisplayName", OWNER.displayName)),
      el("StorageClass", "STANDARD"),
      el("PartNumberMarker", marker),
      el("NextPartNumberMarker", parts.at(-1)?.partNumber ?? 0),
      el("MaxParts", maxParts),
      el("IsTruncated", truncated),
      parts
        .map((part) =>
          group(
            "Part",
            el("PartNumber", part.partNumber),
            el("LastModified", part.lastModified),
            el("ETag", `"${part.etag}"`),
            el("Size", part.size),
            part.checksum ? el(checksumElement(part.checksum.algorithm), part.checksum.value) : "",
          ),
        )
        .join(""),
    ),
  );
}
