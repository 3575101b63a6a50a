// Maps a path-style S3 request to its operation, authenticates it, and runs the handler.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  deleteBucket,
  deleteObjects,
  getBucketLocation,
  headBucket,
  listBuckets,
  listMultipartUploads,
  listObjectsV1,
  listObjectsV2,
  makeBucket,
} from "./bucket-handlers.ts";
import { type S3Core, type S3Request, sendError } from "./context.ts";
import { MalformedEncodingError, percentDecode, Query } from "./encoding.ts";
import { S3Error } from "./errors.ts";
import { listenNotification } from "./listen-handler.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
} from "./multipart-handlers.ts";
import { isValidBucketName, MAX_KEY_BYTES } from "./names.ts";
import { deleteObject, getObject, putObject } from "./object-handlers.ts";
import { verifyRequest } from "./sigv4.ts";

type Handler = (core: S3Core, request: S3Request) => Promise<void>;

interface Route {
  operation: string;
  handler: Handler;
  /** Accepted whatever region the request was signed for (MinIO: GetBucketLocation, ListBuckets). */
  anyRegion?: boolean;
  /** Signed inside its form body (POST policy), not by SigV4 headers or query. */
  formAuth?: boolean;
}

const BUCKET_SUBRESOURCES = [
  "accelerate",
  "acl",
  "analytics",
  "cors",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "lifecycle",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "tagging",
  "versioning",
  "versions",
  "website",
];
const OBJECT_SUBRESOURCES = [
  "acl",
  "attributes",
  "legal-hold",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
];

const methodNotAllowed: Handler = async () => {
  throw new S3Error("MethodNotAllowed");
};

function notImplemented(what: string, options: { formAuth?: boolean } = {}): Route {
  return {
    operation: `Unsupported(${what})`,
    ...(options.formAuth ? { formAuth: true } : {}),
    handler: async () => {
      throw new S3Error("NotImplemented", { message: `${what} is not implemented by this emulator.` });
    },
  };
}

function unsupportedSubresource(query: Query, names: readonly string[]): string | undefined {
  return names.find((name) => query.has(name));
}

function route(method: string, bucket: string, key: string, query: Query): Route {
  if (bucket === "" && key !== "") {
    // `//key`: an object without a bucket.
    return {
      operation: "Unknown",
      handler: async () => {
        throw new S3Error("InvalidBucketName");
      },
    };
  }
  if (bucket === "") {
    if (method === "GET" && query.has("events"))
      return { operation: "ListenNotification", handler: listenNotification };
    if (method === "GET") return { operation: "ListBuckets", handler: listBuckets, anyRegion: true };
    return { operation: "Unknown", handler: methodNotAllowed };
  }
  if (key === "") {
    const sub = unsupportedSubresource(query, BUCKET_SUBRESOURCES);
    switch (method) {
      case "GET":
        // The listen route only matches with an `events` parameter; without one this is a listing.
        if (query.has("events"))
          return { operation: "ListenBucketNotification", handler: listenNotification };
        if (query.has("location"))
          return { operation: "GetBucketLocation", handler: getBucketLocation, anyRegion: true };
        if (query.has("uploads")) return { operation: "ListMultipartUploads", handler: listMultipartUploads };
        if (sub) return notImplemented(`GET ?${sub}`);
        if (query.get("list-type") === "2") return { operation: "ListObjectsV2", handler: listObjectsV2 };
        return { operation: "ListObjectsV1", handler: listObjectsV1 };
      case "HEAD":
        return { operation: "HeadBucket", handler: headBucket };
      case "PUT":
        return sub ? notImplemented(`PUT ?${sub}`) : { operation: "MakeBucket", handler: makeBucket };
      case "DELETE":
        return sub ? notImplemented(`DELETE ?${sub}`) : { operation: "DeleteBucket", handler: deleteBucket };
      case "POST":
        if (query.has("delete")) return { operation: "DeleteMultipleObjects", handler: deleteObjects };
        return notImplemented("POST policy uploads", { formAuth: true });
      default:
        return { operation: "Unknown", handler: methodNotAllowed };
    }
  }
  const sub = unsupportedSubresource(query, OBJECT_SUBRESOURCES);
  switch (method) {
    case "GET":
      if (query.has("uploadId")) return { operation: "ListObjectParts", handler: listParts };
      return sub ? notImplemented(`GET ?${sub}`) : { operation: "GetObject", handler: getObject };
    case "HEAD":
      return { operation: "HeadObject", handler: getObject };
    case "PUT":
      if (query.has("uploadId") && query.has("partNumber"))
        return { operation: "PutObjectPart", handler: uploadPart };
      return sub ? notImplemented(`PUT ?${sub}`) : { operation: "PutObject", handler: putObject };
    case "POST":
      if (query.has("uploads")) return { operation: "NewMultipartUpload", handler: createMultipartUpload };
      if (query.has("uploadId"))
        return { operation: "CompleteMultipartUpload", handler: completeMultipartUpload };
      return notImplemented(sub ? `POST ?${sub}` : "POST on an object");
    case "DELETE":
      if (query.has("uploadId")) return { operation: "AbortMultipartUpload", handler: abortMultipartUpload };
      return sub ? notImplemented(`DELETE ?${sub}`) : { operation: "DeleteObject", handler: deleteObject };
    default:
      return { operation: "Unknown", handler: methodNotAllowed };
  }
}

let lastRequestTime = 0n;

/** MinIO's request ids: the time in nanoseconds, upper-case hex (kept unique here). */
function newRequestId(): string {
  let now = BigInt(Date.now()) * 1_000_000n;
  if (now <= lastRequestTime) now = lastRequestTime + 1n;
  lastRequestTime = now;
  return now.toString(16).toUpperCase();
}

export interface Faults {
  /** Answers every S3 request with this error while it returns one. */
  failure(): S3Error | undefined;
}

/** Serves one S3 request; every outcome, error or not, is answered and recorded. */
export async function handleS3(
  core: S3Core,
  faults: Faults,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = req.url ?? "/";
  const mark = url.indexOf("?");
  const request: S3Request = {
    req,
    res,
    requestId: newRequestId(),
    method: (req.method ?? "GET").toUpperCase(),
    rawPath: mark < 0 ? url : url.slice(0, mark),
    rawQuery: mark < 0 ? "" : url.slice(mark + 1),
    query: new Query([]),
    bucket: "",
    key: "",
    operation: "Unknown",
    auth: undefined,
  };
  try {
    let path: string;
    try {
      path = percentDecode(request.rawPath, false);
      request.query = Query.parse(request.rawQuery);
    } catch (error) {
      if (error instanceof MalformedEncodingError) throw new S3Error("InvalidURI");
      throw error;
    }
    if (!path.startsWith("/")) throw new S3Error("InvalidURI");
    const slash = path.indexOf("/", 1);
    request.bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
    request.key = slash < 0 ? "" : path.slice(slash + 1);
    const { operation, handler, anyRegion, formAuth } = route(
      request.method,
      request.bucket,
      request.key,
      request.query,
    );
    request.operation = operation;
    const failure = faults.failure();
    if (failure) throw failure;
    // A POST policy upload signs its form, not its headers: it is answered for what it is (501),
    // not refused as unsigned.
    if (formAuth) return await handler(core, request);
    request.auth = verifyRequest(
      { method: request.method, path, query: request.query, headers: req.headers },
      {
        secretFor: (accessKey) => (accessKey === core.config.accessKey ? core.config.secretKey : undefined),
        region: core.config.region,
        anyRegion: anyRegion === true,
        now: new Date(),
      },
    );
    if (request.bucket !== "" && !isValidBucketName(request.bucket)) throw new S3Error("InvalidBucketName");
    if (Buffer.byteLength(request.key, "utf8") > MAX_KEY_BYTES) throw new S3Error("KeyTooLong");
    await handler(core, request);
  } catch (error) {
    await sendError(core, request, error);
  }
}
