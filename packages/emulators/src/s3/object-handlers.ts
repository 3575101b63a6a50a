// Object operations: PutObject, GetObject, HeadObject, DeleteObject.
import { open } from "node:fs/promises";
import type { OutgoingHttpHeaders } from "node:http";
import { pipeline } from "node:stream/promises";
import { receiveUpload } from "./body.ts";
import { requireBucket } from "./bucket-handlers.ts";
import { type S3Core, type S3Request, send, startResponse } from "./context.ts";
import { copyObject } from "./copy-handlers.ts";
import { S3Error } from "./errors.ts";
import {
  checkPreconditions,
  httpDate,
  metadataHeaders,
  parseRange,
  userDefinedFromHeaders,
} from "./http-semantics.ts";
import { checksumHeaders, eventObject, refuseUnsupportedObjectFeatures } from "./object-metadata.ts";

export async function putObject(core: S3Core, request: S3Request): Promise<void> {
  if (request.req.headers["x-amz-copy-source"] !== undefined) return copyObject(core, request);
  requireBucket(core, request);
  refuseUnsupportedObjectFeatures(request);
  const userDefined = userDefinedFromHeaders(request.req.headers, request.key);
  const body = await receiveUpload(core, request);
  const meta = await core.store.putObject(request.bucket, request.key, body, userDefined);
  send(core, request, 200, { ETag: `"${meta.etag}"`, ...checksumHeaders(meta.checksum) });
  core.publish("s3:ObjectCreated:Put", request, request.bucket, eventObject(meta));
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "Content-Type",
  "response-content-language": "Content-Language",
  "response-expires": "Expires",
  "response-cache-control": "Cache-Control",
  "response-content-disposition": "Content-Disposition",
  "response-content-encoding": "Content-Encoding",
};

function replaceHeader(headers: OutgoingHttpHeaders, name: string, value: string): void {
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
  }
  headers[name] = value;
}

function checkVersionId(request: S3Request): void {
  const versionId = request.query.get("versionId");
  // Buckets here are unversioned: only the "null" version exists.
  if (versionId !== undefined && versionId !== "null") throw new S3Error("InvalidVersionId");
}

/** GetObject and HeadObject: metadata headers, conditional requests, single byte ranges. */
export async function getObject(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  checkVersionId(request);
  const meta = core.store.requireObject(request.bucket, request.key);
  const validators: OutgoingHttpHeaders = {
    ETag: `"${meta.etag}"`,
    "Last-Modified": httpDate(meta.lastModified),
  };
  const precondition = checkPreconditions(request.req.headers, meta.etag, new Date(meta.lastModified));
  if (precondition === "failed") throw new S3Error("PreconditionFailed");
  if (precondition === "not-modified") {
    startResponse(core, request, 304, validators).end();
    return;
  }
  const rangeHeader = request.req.headers.range;
  const range = parseRange(rangeHeader, meta.size);
  if (range.kind === "unsatisfiable") throw new S3Error("InvalidRange");
  const headers: OutgoingHttpHeaders = { ...metadataHeaders(meta.userDefined), ...validators };
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = request.query.get(param);
    // Replaces the stored header (MinIO's setHeadGetRespHeaders), whatever its case.
    if (value !== undefined) replaceHeader(headers, header, value);
  }
  // The stored checksum covers the whole object: a range gets none.
  const checksumMode = request.req.headers["x-amz-checksum-mode"];
  if (checksumMode === "ENABLED" && range.kind === "full")
    Object.assign(headers, checksumHeaders(meta.checksum));
  const isHead = request.method === "HEAD";
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  if (!isHead) {
    try {
      handle = await open(core.store.dataPath(request.bucket, meta));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new S3Error("NoSuchKey");
      throw error;
    }
  }
  const partial = range.kind === "partial";
  const start = partial ? range.start : 0;
  const end = partial ? range.end : meta.size - 1;
  headers["Content-Length"] = Math.max(0, end - start + 1);
  if (partial) headers["Content-Range"] = `bytes ${start}-${end}/${meta.size}`;
  const res = startResponse(core, request, partial ? 206 : 200, headers);
  core.publish(
    isHead ? "s3:ObjectAccessed:Head" : "s3:ObjectAccessed:Get",
    request,
    request.bucket,
    eventObject(meta),
  );
  if (!handle) {
    res.end();
    return;
  }
  if (meta.size === 0) {
    await handle.close();
    res.end();
    return;
  }
  try {
    await pipeline(handle.createReadStream({ start, end }), res);
  } catch (error) {
    // The client went away mid-body; nothing left to answer.
    core.logger.debug({ err: error, key: request.key }, "object body not fully sent");
  }
}

export async function deleteObject(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  checkVersionId(request);
  // MinIO's force delete (x-minio-force-delete: true): the key and everything under it as a
  // prefix go, in one request; one removal event names the prefix.
  const force = request.req.headers["x-minio-force-delete"];
  if (typeof force === "string" && force.toLowerCase() === "true") {
    // The prefix is taken as MinIO cleans object paths: without leading slashes.
    const prefix = request.key.replace(/^\/+/, "");
    const keys = core.store.sortedKeys(request.bucket).filter((key) => key.startsWith(prefix));
    for (const key of keys) await core.store.deleteObject(request.bucket, key);
    send(core, request, 204);
    core.publish("s3:ObjectRemoved:Delete", request, request.bucket, { key: request.key });
    return;
  }
  const removed = await core.store.deleteObject(request.bucket, request.key);
  send(core, request, 204);
  core.publish(removed ? "s3:ObjectRemoved:Delete" : "s3:ObjectRemoved:NoOP", request, request.bucket, {
    key: request.key,
  });
}
