import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { posix } from "node:path";
import { Readable } from "node:stream";
import type { S3Upload } from "@livekit/protocol";
import { withTimeout } from "@recfleet/runtime";
import { Client } from "minio";

/** Where a finished file goes: an S3 bucket, from the request's `s3` block or egress' own settings. */
export interface S3Target {
  /** Put before every key: egress' `storage.prefix` (or `backup.prefix`), applied to request blocks too. */
  prefix: string;
  /** Tries per upload (egress: 5 for a request's s3 block, the AWS SDK's 3 for its own settings). */
  maxAttempts: number;
  /** `http(s)://host[:port]`; empty means AWS S3 itself. */
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secret: string;
  sessionToken?: string;
  forcePathStyle: boolean;
  metadata?: Record<string, string>;
  tagging?: string;
  contentDisposition?: string;
}

/** Egress' own S3 settings (the `s3:` of its `storage:` or `backup:` config block). */
export interface DefaultStorage {
  endpoint: string;
  bucket: string;
  region?: string;
  accessKey: string;
  secret: string;
  forcePathStyle?: boolean;
}

// livekit/egress pkg/config/storage.go: a request's s3 block gets MaxRetries 5 unless configured;
// egress' own settings leave it 0, which the AWS SDK's standard retryer reads as 3 attempts.
const REQUEST_ATTEMPTS = 5;
const CONFIGURED_ATTEMPTS = 3;

/** A request's s3 block, under egress' own storage prefix (egress applies it to every upload). */
export function targetFromRequest(s3: S3Upload, storagePrefix: string): S3Target {
  return {
    prefix: storagePrefix,
    maxAttempts: REQUEST_ATTEMPTS,
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    accessKey: s3.accessKey,
    secret: s3.secret,
    ...(s3.sessionToken ? { sessionToken: s3.sessionToken } : {}),
    forcePathStyle: s3.forcePathStyle,
    metadata: { ...s3.metadata },
    ...(s3.tagging ? { tagging: s3.tagging } : {}),
    ...(s3.contentDisposition ? { contentDisposition: s3.contentDisposition } : {}),
  };
}

export function targetFromDefault(storage: DefaultStorage, prefix: string): S3Target {
  return {
    prefix,
    maxAttempts: CONFIGURED_ATTEMPTS,
    endpoint: storage.endpoint,
    bucket: storage.bucket,
    region: storage.region ?? "",
    accessKey: storage.accessKey,
    secret: storage.secret,
    forcePathStyle: storage.forcePathStyle ?? true,
  };
}

export class UploadConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UploadConfigError";
  }
}

interface Endpoint {
  useSSL: boolean;
  host: string;
  port: number;
  aws: boolean;
}

function parseEndpoint(endpoint: string): Endpoint {
  if (endpoint === "") return { useSSL: true, host: "s3.amazonaws.com", port: 443, aws: true };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UploadConfigError(
      `invalid S3 endpoint ${JSON.stringify(endpoint)}: expected http(s)://host[:port]`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UploadConfigError(
      `invalid S3 endpoint ${JSON.stringify(endpoint)}: scheme must be http or https`,
    );
  }
  const useSSL = url.protocol === "https:";
  const port = url.port === "" ? (useSSL ? 443 : 80) : Number(url.port);
  return {
    useSSL,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    aws: url.hostname.endsWith("amazonaws.com"),
  };
}

/**
 * The object's URL as egress reports it in `file_results[].location` (livekit/storage s3.go): the
 * endpoint as configured and the key as is, not escaped.
 */
export function objectLocation(target: S3Target, key: string): string {
  const endpoint = target.endpoint === "" ? "s3.amazonaws.com" : target.endpoint;
  if (target.forcePathStyle) {
    const base = endpoint.startsWith("http") ? endpoint : `https://${endpoint}`;
    return `${base}/${target.bucket}/${key}`;
  }
  return `https://${target.bucket}.${endpoint}/${key}`;
}

/** The key an upload lands at: the target's prefix joined in front, as Go's path.Join does. */
export function storageKey(target: S3Target, filepath: string): string {
  return target.prefix === "" ? filepath : posix.join(target.prefix, filepath);
}

export interface UploadResult {
  location: string;
  etag: string;
}

// The AWS SDK's upload manager (what egress uploads with) sends 5 MiB parts: anything larger
// arrives as a multipart upload.
const PART_SIZE = 5 * 1024 * 1024;
// What the SDK's standard retryer retries (livekit/storage adds 409 and 429): throttling, 5xx,
// timeouts and broken connections. A 403 or a missing bucket is final.
const RETRYABLE_CODES = new Set([
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
  "RequestTimeout",
  "OperationAborted",
  "Throttling",
  "TooManyRequests",
]);

function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return true;
  return RETRYABLE_CODES.has(code) || /^E[A-Z]+$/.test(code) || code === "TimeoutError";
}

export interface UploadOptions {
  timeoutMs: number;
  /** The pause before retry n (1-based); the SDK backs off from 100 ms up to 5 s. */
  retryDelayMs: (retry: number) => number;
}

/**
 * Uploads a file as egress does: under the target's prefix, with its Content-Type and
 * `Content-Disposition: inline` unless the request gave one, in 5 MiB parts when larger, tried
 * up to the target's attempts. Each attempt is a real SigV4-signed upload through the minio
 * client, so it works against MinIO, AWS S3 or the S3 emulator alike.
 */
export async function uploadWithRetries(
  target: S3Target,
  filepath: string,
  body: Buffer,
  contentType: string,
  options: UploadOptions,
): Promise<UploadResult & { key: string; attempts: number }> {
  const key = storageKey(target, filepath);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await uploadObject(target, key, body, contentType, options.timeoutMs);
      return { ...result, key, attempts: attempt };
    } catch (error) {
      if (attempt >= target.maxAttempts || !retryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs(attempt)));
    }
  }
}

function* partsOf(body: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < body.length; offset += PART_SIZE) {
    yield body.subarray(offset, offset + PART_SIZE);
  }
}

/** One upload attempt. The agent is private to it so a timeout can tear its socket down. */
async function uploadObject(
  target: S3Target,
  key: string,
  body: Buffer,
  contentType: string,
  timeoutMs: number,
): Promise<UploadResult> {
  const endpoint = parseEndpoint(target.endpoint);
  const agent = endpoint.useSSL ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false });
  const client = new Client({
    endPoint: endpoint.host,
    port: endpoint.port,
    useSSL: endpoint.useSSL,
    accessKey: target.accessKey,
    secretKey: target.secret,
    ...(target.sessionToken ? { sessionToken: target.sessionToken } : {}),
    // A region skips minio's bucket-location lookup; MinIO's default one is us-east-1.
    region: target.region || "us-east-1",
    pathStyle: target.forcePathStyle,
    transportAgent: agent,
    partSize: PART_SIZE,
    // Egress' retries are counted here (uploadWithRetries); minio-js' own would add hidden ones.
    retryOptions: { disableRetry: true },
  });
  const headers: Record<string, string> = {
    "Content-Type": contentType,
    "Content-Disposition": target.contentDisposition || "inline",
    ...target.metadata,
  };
  if (target.tagging) headers["X-Amz-Tagging"] = target.tagging;
  try {
    // minio-js sends a Buffer in one PUT whatever its size, and a stream in the chunks it reads:
    // 5 MiB chunks make the parts egress' upload manager sends.
    const source = body.length > PART_SIZE ? Readable.from(partsOf(body)) : body;
    const info = await withTimeout(
      client.putObject(target.bucket, key, source, body.length, headers),
      timeoutMs,
      `upload to ${target.bucket}/${key}`,
    );
    return { location: objectLocation(target, key), etag: info.etag };
  } finally {
    agent.destroy();
  }
}
