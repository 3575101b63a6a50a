import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { S3Upload } from "@livekit/protocol";
import { withTimeout } from "@recfleet/runtime";
import { Client } from "minio";

/** Where a finished file goes: an S3 bucket, from the request's `s3` block or egress' own settings. */
export interface S3Target {
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

/** Egress' own storage settings (its `s3:` config block), used when a request names none. */
export interface DefaultStorage {
  endpoint: string;
  bucket: string;
  region?: string;
  accessKey: string;
  secret: string;
  forcePathStyle?: boolean;
}

export function targetFromRequest(s3: S3Upload): S3Target {
  return {
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

export function targetFromDefault(storage: DefaultStorage): S3Target {
  return {
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

/** The object's URL as egress reports it in `file_results[].location`. */
export function objectLocation(target: S3Target, key: string): string {
  const endpoint = parseEndpoint(target.endpoint);
  const path = key.split("/").map(encodeURIComponent).join("/");
  const scheme = endpoint.useSSL ? "https" : "http";
  const defaultPort = endpoint.port === (endpoint.useSSL ? 443 : 80);
  const host = defaultPort ? endpoint.host : `${endpoint.host}:${endpoint.port}`;
  if (endpoint.aws || !target.forcePathStyle) return `${scheme}://${target.bucket}.${host}/${path}`;
  return `${scheme}://${host}/${target.bucket}/${path}`;
}

export interface UploadResult {
  location: string;
  etag: string;
}

/**
 * A real SigV4-signed PUT through the minio client, so it works against MinIO, AWS S3 or the S3
 * emulator alike. The agent is private to the upload so a timeout can tear its socket down.
 */
export async function uploadObject(
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
  });
  const headers: Record<string, string> = { "Content-Type": contentType, ...target.metadata };
  if (target.contentDisposition) headers["Content-Disposition"] = target.contentDisposition;
  if (target.tagging) headers["X-Amz-Tagging"] = target.tagging;
  try {
    const info = await withTimeout(
      client.putObject(target.bucket, key, body, body.length, headers),
      timeoutMs,
      `upload to ${target.bucket}/${key}`,
    );
    return { location: objectLocation(target, key), etag: info.etag };
  } finally {
    agent.destroy();
  }
}
