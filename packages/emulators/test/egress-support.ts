// Test doubles for the egress emulator's neighbours: an S3 endpoint that checks SigV4 for real and
// keeps what was PUT, and a webhook receiver that keeps the raw bodies for WebhookReceiver.
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { scaled } from "@recfleet/testing";
import { type EgressClient, type EgressInfo, type EgressStatus, S3Upload } from "livekit-server-sdk";
import { closeServer, listen, readBody } from "../src/common/http.ts";

export interface StoredObject {
  bucket: string;
  key: string;
  contentType: string | undefined;
  contentDisposition: string | undefined;
  body: Buffer;
  authorization: string;
  accessKey: string;
  region: string;
}

export interface S3Recorder {
  url: string;
  /** Every PUT that carried a valid signature, in arrival order. */
  objects: StoredObject[];
  /** Every request's verdict: what a caller sent and whether its signature held. */
  verdicts: { method: string; path: string; status: number; reason?: string }[];
  close(): Promise<void>;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Recomputes the SigV4 signature of a path-style request, the way S3 and MinIO check it. */
function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  credentials: ReadonlyMap<string, string>,
): { ok: true; accessKey: string; region: string } | { ok: false; reason: string } {
  const match = AUTH_PATTERN.exec(req.headers.authorization ?? "");
  if (!match) return { ok: false, reason: "Authorization is not an AWS4-HMAC-SHA256 header" };
  const [, accessKey = "", date = "", region = "", signedHeaders = "", signature = ""] = match;
  const secret = credentials.get(accessKey);
  if (!secret) return { ok: false, reason: `unknown access key ${accessKey}` };
  const payloadHash = req.headers["x-amz-content-sha256"];
  if (typeof payloadHash !== "string") return { ok: false, reason: "no x-amz-content-sha256" };
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== sha256Hex(body)) {
    return { ok: false, reason: "x-amz-content-sha256 does not match the body" };
  }
  const amzDate = req.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !amzDate.startsWith(date))
    return { ok: false, reason: "bad x-amz-date" };
  const url = new URL(req.url ?? "/", "http://s3");
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a = ""], [b = ""]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .split(";")
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonicalRequest = [
    req.method,
    url.pathname,
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), "s3"), "aws4_request");
  if (hmac(signingKey, stringToSign).toString("hex") !== signature) {
    return { ok: false, reason: "SignatureDoesNotMatch" };
  }
  return { ok: true, accessKey, region };
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
  res.end(xml);
}

/**
 * A path-style S3 endpoint that accepts PUT Object from known credentials only, verifying each
 * signature in full, and answers like S3 (ETag on success, XML error otherwise).
 */
export async function startS3Recorder(credentials: Record<string, string>): Promise<S3Recorder> {
  const keys = new Map(Object.entries(credentials));
  const objects: StoredObject[] = [];
  const verdicts: S3Recorder["verdicts"] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req, 16 * 1024 * 1024);
      const path = new URL(req.url ?? "/", "http://s3").pathname;
      const verdict = verifySigV4(req, body, keys);
      if (!verdict.ok) {
        verdicts.push({ method: req.method ?? "", path, status: 403, reason: verdict.reason });
        return s3Error(res, 403, "SignatureDoesNotMatch", verdict.reason);
      }
      const [, bucket = "", ...keyParts] = path.split("/");
      if (req.method !== "PUT" || keyParts.length === 0) {
        verdicts.push({ method: req.method ?? "", path, status: 501 });
        return s3Error(res, 501, "NotImplemented", "this test endpoint only stores PUT Object");
      }
      objects.push({
        bucket,
        key: keyParts.map(decodeURIComponent).join("/"),
        contentType: req.headers["content-type"],
        contentDisposition: req.headers["content-disposition"],
        body,
        authorization: req.headers.authorization ?? "",
        accessKey: verdict.accessKey,
        region: verdict.region,
      });
      verdicts.push({ method: "PUT", path, status: 200 });
      res.writeHead(200, { etag: `"${createHash("md5").update(body).digest("hex")}"`, "content-length": 0 });
      res.end();
    })();
  });
  const port = await listen(server, 0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}`, objects, verdicts, close: () => closeServer(server) };
}

export interface ReceivedWebhook {
  body: string;
  authorization: string | undefined;
  contentType: string | undefined;
}

export interface WebhookSink {
  url: string;
  received: ReceivedWebhook[];
  /** Statuses to answer the next requests with, one each (0: never answer); 200 once they run out. */
  answerNext(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: ReceivedWebhook[] = [];
  const answers: number[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = (await readBody(req, 1024 * 1024)).toString("utf8");
      received.push({
        body,
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
      });
      const status = answers.shift() ?? 200;
      // 0 holds the request unanswered, like a receiver that hangs.
      if (status === 0) return;
      res.writeHead(status, { "content-length": 0 });
      res.end();
    })();
  });
  const port = await listen(server, 0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    answerNext: (...statuses) => answers.push(...statuses),
    close: () => closeServer(server),
  };
}

/** Polls until the check returns something other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls ListEgress until the egress is in `status`; answers its EgressInfo then. */
export function untilEgressStatus(
  client: EgressClient,
  egressId: string,
  status: EgressStatus,
): Promise<EgressInfo> {
  return waitFor(async () => {
    const [info] = await client.listEgress({ egressId });
    return info?.status === status ? info : undefined;
  });
}

/** A request's s3 block uploading to the S3 recorder with these credentials (path style, us-east-1). */
export function s3UploadTo(
  s3: S3Recorder,
  accessKey: string,
  secret: string,
  overrides: Partial<S3Upload> = {},
): S3Upload {
  return new S3Upload({
    accessKey,
    secret,
    region: "us-east-1",
    endpoint: s3.url,
    bucket: "recordings",
    forcePathStyle: true,
    ...overrides,
  });
}

/** The error a call failed with; fails the test when the call succeeded. */
export async function failure(call: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await call;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("the call was expected to fail but succeeded");
}

/** A hand-made HS256 JWT, for tokens the SDK will not mint (expired, wrong issuer …). */
export function handMadeJwt(claims: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/**
 * Opens rooms as a first participant's join does, each with a participant publishing a camera
 * and a microphone, so that a room composite gets its start signal. A Start for a room that
 * does not exist answers 404, as livekit-server does.
 */
export function openRooms(
  emulator: {
    join(room: string, join: { identity: string; publish?: ("microphone" | "camera")[] }): unknown;
  },
  rooms: readonly string[],
): void {
  for (const room of rooms)
    emulator.join(room, { identity: `speaker-${room}`, publish: ["microphone", "camera"] });
}
