// What every handler works with: the emulator's parts (S3Core) and one request (S3Request), plus
// the one way to answer, which also records the request for the request log.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Logger } from "@recfleet/runtime";
import { percentDecode, type Query } from "./encoding.ts";
import { S3Error } from "./errors.ts";
import type { EventObject } from "./events.ts";
import type { ListenerHub } from "./listeners.ts";
import { loggableHeaders, type RequestLog } from "./request-log.ts";
import type { AuthResult } from "./sigv4.ts";
import type { ObjectStore } from "./store.ts";
import { el, XML_HEADER } from "./xml.ts";

export interface S3Config {
  accessKey: string;
  secretKey: string;
  /** The site region; undefined behaves like MinIO without MINIO_SITE_REGION. */
  region: string | undefined;
  keepAliveMs: number;
  /** Whether ListenBucketNotification is served (MinIO) or answered 501 (AWS S3 and others). */
  listen: boolean;
}

export interface S3Core {
  readonly config: S3Config;
  readonly store: ObjectStore;
  readonly hub: ListenerHub;
  readonly requestLog: RequestLog;
  readonly logger: Logger;
  /** x-amz-id-2: identifies this server. */
  readonly hostId: string;
  /** The base URL clients reach this server at. */
  endpoint(): string;
  /** Publishes an event caused by `request` to the connected listeners. */
  publish(eventName: string, request: S3Request, bucket: string, object: EventObject): void;
}

export interface S3Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly method: string;
  /** As sent, percent-encoded. */
  readonly rawPath: string;
  readonly rawQuery: string;
  query: Query;
  bucket: string;
  key: string;
  operation: string;
  auth: AuthResult | undefined;
}

const EXPOSED_HEADERS = [
  "Date",
  "ETag",
  "Server",
  "Connection",
  "Accept-Ranges",
  "Content-Range",
  "Content-Encoding",
  "Content-Length",
  "Content-Type",
  "Content-Disposition",
  "Last-Modified",
  "Content-Language",
  "Cache-Control",
  "Retry-After",
  "X-Amz-Bucket-Region",
  "Expires",
  "X-Amz-Request-Id",
  "X-Amz-Id-2",
].join(", ");

function commonHeaders(core: S3Core, request: S3Request): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    Server: "MinIO",
    "Accept-Ranges": "bytes",
    "Content-Security-Policy": "block-all-mixed-content",
    Vary: "Origin, Accept-Encoding",
    "X-Amz-Request-Id": request.requestId,
    "X-Amz-Id-2": core.hostId,
    "X-Content-Type-Options": "nosniff",
    "X-Xss-Protection": "1; mode=block",
  };
  if (core.config.region !== undefined) headers["X-Amz-Bucket-Region"] = core.config.region;
  const origin = request.req.headers.origin;
  // MinIO's default CORS policy allows every origin, so a browser may fetch a presigned link.
  if (origin !== undefined) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Access-Control-Allow-Credentials"] = "true";
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS;
  }
  return headers;
}

function record(core: S3Core, request: S3Request, status: number): void {
  core.requestLog.add({
    method: request.method,
    path: request.rawPath,
    query: request.rawQuery,
    status,
    operation: request.operation,
    requestId: request.requestId,
    headers: loggableHeaders(request.req.headers),
  });
  core.logger.debug(
    { method: request.method, path: request.rawPath, operation: request.operation, status },
    "s3 request",
  );
}

/** Sends the status line and headers, leaving the body to the caller (object bodies, streams). */
export function startResponse(
  core: S3Core,
  request: S3Request,
  status: number,
  headers: OutgoingHttpHeaders = {},
): ServerResponse {
  request.res.writeHead(status, { ...commonHeaders(core, request), ...headers });
  record(core, request, status);
  return request.res;
}

export function send(
  core: S3Core,
  request: S3Request,
  status: number,
  headers: OutgoingHttpHeaders = {},
  body: string | Buffer = "",
): void {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  startResponse(core, request, status, { "Content-Length": payload.length, ...headers }).end(
    request.method === "HEAD" ? undefined : payload,
  );
}

export function sendXml(core: S3Core, request: S3Request, xml: string, status = 200): void {
  send(core, request, status, { "Content-Type": "application/xml" }, xml);
}

const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads and drops what is left of a request body before an early answer, so that the client,
 * still sending, gets to read the answer instead of a reset connection.
 */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed) return;
  const length = Number(req.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(length) && length > MAX_DRAIN_BYTES) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    req.once("end", done);
    req.once("close", done);
    req.once("error", done);
    req.resume();
  });
}

/** Answers an error as MinIO does: XML `<Error>` (no body for HEAD) and x-minio-error-* headers. */
export async function sendError(core: S3Core, request: S3Request, error: unknown): Promise<void> {
  let s3Error: S3Error;
  if (error instanceof S3Error) s3Error = error;
  else {
    core.logger.error(
      { err: error, operation: request.operation, path: request.rawPath },
      "s3 request failed",
    );
    s3Error = new S3Error("InternalError");
  }
  await drain(request.req);
  if (request.res.headersSent) {
    request.res.destroy();
    return;
  }
  let resource = request.rawPath;
  try {
    resource = percentDecode(request.rawPath, false);
  } catch {
    // An undecodable path (the InvalidURI answer itself) is reported as sent.
  }
  const xml =
    `${XML_HEADER}<Error>` +
    el("Code", s3Error.code) +
    el("Message", s3Error.message) +
    el("Key", request.key || undefined) +
    el("BucketName", request.bucket || undefined) +
    el("Resource", resource) +
    Object.entries(s3Error.extra)
      .map(([name, value]) => el(name, value))
      .join("") +
    el("RequestId", request.requestId) +
    el("HostId", core.hostId) +
    "</Error>";
  const headers: OutgoingHttpHeaders = {
    "Content-Type": "application/xml",
    "x-minio-error-code": s3Error.code,
    "x-minio-error-desc": `"${s3Error.message.replace(/[^\x20-\x7e]/g, "?")}"`,
  };
  if (s3Error.status === 503) headers["Retry-After"] = "120";
  if (s3Error.status === 416 && core.store.hasBucket(request.bucket)) {
    const size = core.store.getObject(request.bucket, request.key)?.size;
    if (size !== undefined) headers["Content-Range"] = `bytes */${size}`;
  }
  send(core, request, s3Error.status, headers, xml);
}
