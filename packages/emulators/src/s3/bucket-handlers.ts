// Service- and bucket-level operations: ListBuckets, MakeBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, ListObjects (V1 and V2), ListMultipartUploads and DeleteObjects.
import { readXmlBody } from "./body.ts";
import { type S3Core, type S3Request, send, sendXml } from "./context.ts";
import { compareKeys, listingEncode } from "./encoding.ts";
import { S3Error } from "./errors.ts";
import { listPage } from "./listing.ts";
import { OWNER } from "./names.ts";
import type { ObjectMeta } from "./store.ts";
import { document, el, escapeXml, group, parseDeleteObjects, parseLocationConstraint } from "./xml.ts";

const MAX_LIST = 1000;

const owner = () => group("Owner", el("ID", OWNER.id), el("DisplayName", OWNER.displayName));

export async function listBuckets(core: S3Core, request: S3Request): Promise<void> {
  const buckets = core.store
    .listBuckets()
    .map((bucket) => group("Bucket", el("Name", bucket.name), el("CreationDate", bucket.creationDate)));
  sendXml(core, request, document("ListAllMyBucketsResult", owner(), group("Buckets", ...buckets)));
}

export async function makeBucket(core: S3Core, request: S3Request): Promise<void> {
  // A bucket made without the Object Lock it asked for would silently keep nothing locked.
  const lock = request.req.headers["x-amz-bucket-object-lock-enabled"];
  if (typeof lock === "string" && lock.toLowerCase() === "true") {
    throw new S3Error("NotImplemented", { message: "Object Lock is not supported by this emulator." });
  }
  const location = parseLocationConstraint(await readXmlBody(request));
  const site = core.config.region;
  if (location !== "" && site !== undefined && location !== site) throw new S3Error("InvalidRegion");
  if (!(await core.store.createBucket(request.bucket))) throw new S3Error("BucketAlreadyOwnedByYou");
  send(core, request, 200, { Location: `/${request.bucket}` });
  core.publish("s3:BucketCreated:*", request, request.bucket, { key: "" });
}

export async function headBucket(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  send(core, request, 200);
}

export async function deleteBucket(core: S3Core, request: S3Request): Promise<void> {
  await core.store.deleteBucket(request.bucket);
  send(core, request, 204);
  core.publish("s3:BucketRemoved:*", request, request.bucket, { key: "" });
}

export async function getBucketLocation(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  // us-east-1 is written as an empty constraint; clients read that as us-east-1.
  const region =
    core.config.region === undefined || core.config.region === "us-east-1" ? "" : core.config.region;
  sendXml(core, request, document("LocationConstraint", escapeXml(region)));
}

export function requireBucket(core: S3Core, request: S3Request): void {
  if (!core.store.hasBucket(request.bucket)) throw new S3Error("NoSuchBucket");
}

function maxCount(value: string | undefined, error: "InvalidMaxKeys" | "InvalidMaxUploads"): number {
  if (value === undefined) return MAX_LIST;
  if (!/^\d+$/.test(value) || Number(value) > 2_147_483_647) throw new S3Error(error);
  return Math.min(Number(value), MAX_LIST);
}

function encoder(request: S3Request): (value: string) => string {
  const encodingType = request.query.get("encoding-type");
  if (encodingType === undefined) return (value) => value;
  if (encodingType.toLowerCase() !== "url") throw new S3Error("InvalidEncodingMethod");
  return listingEncode;
}

function contents(meta: ObjectMeta, encode: (value: string) => string, withOwner: boolean): string {
  return group(
    "Contents",
    el("Key", encode(meta.key)),
    el("LastModified", meta.lastModified),
    el("ETag", `"${meta.etag}"`),
    el("Size", meta.size),
    withOwner ? owner() : "",
    el("StorageClass", "STANDARD"),
  );
}

const commonPrefixes = (prefixes: string[], encode: (value: string) => string) =>
  prefixes.map((prefix) => group("CommonPrefixes", el("Prefix", encode(prefix)))).join("");

function decodeContinuationToken(token: string): string {
  const key = Buffer.from(token, "base64").toString("utf8");
  if (token === "" || Buffer.from(key, "utf8").toString("base64") !== token) {
    throw new S3Error("InvalidContinuationToken");
  }
  return key;
}

export async function listObjectsV2(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const { query } = request;
  const encode = encoder(request);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const startAfter = query.get("start-after") ?? "";
  const token = query.get("continuation-token");
  const maxKeys = maxCount(query.get("max-keys"), "InvalidMaxKeys");
  const after = token !== undefined ? decodeContinuationToken(token) : startAfter;
  const page = listPage({
    sortedKeys: core.store.sortedKeys(request.bucket),
    prefix,
    delimiter,
    after,
    maxKeys,
  });
  const withOwner = query.get("fetch-owner") === "true";
  const objects = page.keys.map((key) => core.store.requireObject(request.bucket, key));
  sendXml(
    core,
    request,
    document(
      "ListBucketResult",
      el("Name", request.bucket),
      el("Prefix", encode(prefix)),
      el("StartAfter", startAfter === "" ? undefined : encode(startAfter)),
      el("ContinuationToken", token),
      el(
        "NextContinuationToken",
        page.isTruncated ? Buffer.from(page.nextMarker).toString("base64") : undefined,
      ),
      el("KeyCount", page.keys.length + page.commonPrefixes.length),
      el("MaxKeys", maxKeys),
      el("Delimiter", delimiter === "" ? undefined : encode(delimiter)),
      el("IsTruncated", page.isTruncated),
      objects.map((meta) => contents(meta, encode, withOwner)).join(""),
      commonPrefixes(page.commonPrefixes, encode),
      el("EncodingType", query.has("encoding-type") ? "url" : undefined),
    ),
  );
}

export async function listObjectsV1(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const { query } = request;
  const encode = encoder(request);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const marker = query.get("marker") ?? "";
  const maxKeys = maxCount(query.get("max-keys"), "InvalidMaxKeys");
  const page = listPage({
    sortedKeys: core.store.sortedKeys(request.bucket),
    prefix,
    delimiter,
    after: marker,
    maxKeys,
  });
  const objects = page.keys.map((key) => core.store.requireObject(request.bucket, key));
  sendXml(
    core,
    request,
    document(
      "ListBucketResult",
      el("Name", request.bucket),
      el("Prefix", encode(prefix)),
      el("Marker", encode(marker)),
      el("NextMarker", page.isTruncated ? encode(page.nextMarker) : undefined),
      el("MaxKeys", maxKeys),
      el("Delimiter", delimiter === "" ? undefined : encode(delimiter)),
      el("IsTruncated", page.isTruncated),
      objects.map((meta) => contents(meta, encode, true)).join(""),
      commonPrefixes(page.commonPrefixes, encode),
      el("EncodingType", query.has("encoding-type") ? "url" : undefined),
    ),
  );
}

export async function listMultipartUploads(core: S3Core, request: S3Request): Promise<void> {
  const { query } = request;
  const encode = encoder(request);
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const keyMarker = query.get("key-marker") ?? "";
  const uploadIdMarker = query.get("upload-id-marker") ?? "";
  const maxUploads = maxCount(query.get("max-uploads"), "InvalidMaxUploads");
  const uploads = core.store.listUploads(request.bucket).filter((upload) => {
    if (!upload.key.startsWith(prefix)) return false;
    if (keyMarker === "") return true;
    const order = compareKeys(upload.key, keyMarker);
    return order > 0 || (order === 0 && uploadIdMarker !== "" && upload.uploadId > uploadIdMarker);
  });
  const entries: string[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let nextKeyMarker = "";
  let nextUploadIdMarker = "";
  for (const upload of uploads) {
    const at = delimiter === "" ? -1 : upload.key.indexOf(delimiter, prefix.length);
    const rolledUp = at >= 0 ? upload.key.slice(0, at + delimiter.length) : undefined;
    if (rolledUp !== undefined && prefixes.includes(rolledUp)) continue;
    if (entries.length + prefixes.length === maxUploads) {
      truncated = true;
      break;
    }
    if (rolledUp !== undefined) prefixes.push(rolledUp);
    else {
      entries.push(
        group(
          "Upload",
          el("Key", encode(upload.key)),
          el("UploadId", upload.uploadId),
          group("Initiator", el("ID", OWNER.id), el("DisplayName", OWNER.displayName)),
          owner(),
          el("StorageClass", "STANDARD"),
          el("Initiated", upload.initiated),
        ),
      );
    }
    nextKeyMarker = upload.key;
    nextUploadIdMarker = upload.uploadId;
  }
  sendXml(
    core,
    request,
    document(
      "ListMultipartUploadsResult",
      el("Bucket", request.bucket),
      el("KeyMarker", encode(keyMarker)),
      el("UploadIdMarker", uploadIdMarker),
      el("NextKeyMarker", truncated ? encode(nextKeyMarker) : ""),
      el("NextUploadIdMarker", truncated ? nextUploadIdMarker : ""),
      el("Delimiter", encode(delimiter)),
      el("Prefix", encode(prefix)),
      el("EncodingType", query.has("encoding-type") ? "url" : undefined),
      el("MaxUploads", maxUploads),
      el("IsTruncated", truncated),
      entries.join(""),
      commonPrefixes(prefixes, encode),
    ),
  );
}

export async function deleteObjects(core: S3Core, request: S3Request): Promise<void> {
  requireBucket(core, request);
  const { keys, quiet } = parseDeleteObjects(await readXmlBody(request));
  const deleted: string[] = [];
  for (const key of keys) {
    await core.store.deleteObject(request.bucket, key);
    deleted.push(key);
    // MinIO's DeleteMultipleObjectsHandler reports every listed key as deleted, there or not;
    // only a single DeleteObject of a missing key says NoOP.
    core.publish("s3:ObjectRemoved:Delete", request, request.bucket, { key });
  }
  const body = quiet ? [] : deleted.map((key) => group("Deleted", el("Key", key)));
  sendXml(core, request, document("DeleteResult", ...body));
}
