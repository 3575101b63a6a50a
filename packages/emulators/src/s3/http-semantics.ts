// Header-level behaviour of MinIO's object API: what metadata is kept, default content types,
// byte ranges, conditional requests and the client address reported in events.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { extname } from "node:path";

/** Standard headers kept with an object and returned on GET/HEAD (MinIO's supportedHeaders). */
const STORED_HEADERS = [
  "content-type",
  "cache-control",
  "content-encoding",
  "content-disposition",
  "content-language",
  "expires",
];

/** Go's textproto.CanonicalMIMEHeaderKey: `x-amz-meta-room-id` → `X-Amz-Meta-Room-Id`. */
export function canonicalHeaderKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

const CONTENT_TYPES: Record<string, string> = {
  ".aac": "audio/aac",
  ".css": "text/css",
  ".csv": "text/csv",
  ".gif": "image/gif",
  ".htm": "text/html",
  ".html": "text/html",
  ".jpeg": "image/jpeg",
  ".jpg": "image/jpeg",
  ".js": "application/javascript",
  ".json": "application/json",
  ".m4a": "audio/mp4",
  ".mkv": "video/x-matroska",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".oga": "audio/ogg",
  ".ogg": "audio/ogg",
  ".ogv": "video/ogg",
  ".opus": "audio/opus",
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ts": "video/mp2t",
  ".txt": "text/plain",
  ".wav": "audio/wav",
  ".webm": "video/webm",
  ".webp": "image/webp",
  ".xml": "application/xml",
  ".zip": "application/zip",
};

/** MinIO guesses a missing Content-Type from the key's extension (mimedb). */
export function contentTypeForKey(key: string): string {
  return CONTENT_TYPES[extname(key).toLowerCase()] ?? "application/octet-stream";
}

/** A request header's (first) value. */
export function first(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The metadata MinIO keeps from a PUT or CreateMultipartUpload request. */
export function userDefinedFromHeaders(headers: IncomingHttpHeaders, key: string): Record<string, string> {
  const userDefined: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = first(headers, name);
    if (value !== undefined && value !== "") userDefined[name] = value;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("x-amz-meta-") && value !== undefined) {
      userDefined[canonicalHeaderKey(name)] = Array.isArray(value) ? value.join(",") : value;
    }
  }
  userDefined["content-type"] ??= contentTypeForKey(key);
  return userDefined;
}

/** Response headers for an object's stored metadata. */
export function metadataHeaders(userDefined: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(userDefined)) {
    if (STORED_HEADERS.includes(name) || name.startsWith("X-Amz-Meta-")) headers[name] = value;
  }
  return headers;
}

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const POSITION = /^\d+$/;

/**
 * MinIO's parseRequestRangeSpec: a single `bytes=a-b`, `bytes=a-` or `bytes=-n`. A header it
 * cannot read (several ranges, another unit) is ignored and the whole object is sent, like S3;
 * a first position past the end, `b < a` or `-0` is unsatisfiable (416 InvalidRange).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined || !header.startsWith("bytes=")) return { kind: "full" };
  const spec = header.slice("bytes=".length);
  const dash = spec.indexOf("-");
  if (dash < 0) return { kind: "full" };
  const startText = spec.slice(0, dash);
  const endText = spec.slice(dash + 1);
  if ((startText !== "" && !POSITION.test(startText)) || (endText !== "" && !POSITION.test(endText))) {
    return { kind: "full" };
  }
  if (startText === "" && endText === "") return { kind: "full" };
  if (startText === "") {
    const length = Number(endText);
    if (length === 0) return { kind: "unsatisfiable" };
    return size === 0
      ? { kind: "unsatisfiable" }
      : { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(startText);
  const end = endText === "" ? size - 1 : Number(endText);
  if (end < start || start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}

function etagMatches(header: string, etag: string): boolean {
  return header
    .split(",")
    .map((item) => item.trim().replace(/^W\//, "").replace(/^"|"$/g, ""))
    .some((item) => item === "*" || item === etag);
}

/** Evaluates If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since on GET/HEAD. */
export function checkPreconditions(
  headers: IncomingHttpHeaders,
  etag: string,
  lastModified: Date,
): "ok" | "not-modified" | "failed" {
  const seconds = Math.floor(lastModified.getTime() / 1000);
  const ifMatch = first(headers, "if-match");
  if (ifMatch !== undefined && !etagMatches(ifMatch, etag)) return "failed";
  const ifUnmodifiedSince = first(headers, "if-unmodified-since");
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined) {
    const since = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(since) && seconds > Math.floor(since / 1000)) return "failed";
  }
  const ifNoneMatch = first(headers, "if-none-match");
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) return "not-modified";
  const ifModifiedSince = first(headers, "if-modified-since");
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    if (!Number.isNaN(since) && seconds <= Math.floor(since / 1000)) return "not-modified";
  }
  return "ok";
}

/** The client address as MinIO reports it: X-Forwarded-For, X-Real-Ip, else the peer. */
export function sourceIp(req: IncomingMessage): string {
  const forwarded = first(req.headers, "x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  const realIp = first(req.headers, "x-real-ip")?.trim();
  if (realIp) return realIp;
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

/** RFC 1123 date as HTTP headers carry it. */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}
