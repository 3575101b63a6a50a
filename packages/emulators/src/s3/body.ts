// Request bodies: the length rules of S3 and the digests a signed request promises.
import { createHash } from "node:crypto";
import { BodyTooLargeError, readBody } from "../common/http.ts";
import { AwsChunkedDecoder } from "./aws-chunked.ts";
import { algorithmNamed, type ChecksumAlgorithm, checksumHeader, digestLength } from "./checksums.ts";
import type { S3Core, S3Request } from "./context.ts";
import { S3Error } from "./errors.ts";
import { UNSIGNED_PAYLOAD } from "./sigv4.ts";
import type { ReceivedBody } from "./store.ts";

/** S3's limit for one PutObject and for one part. */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;
/** Enough for a CompleteMultipartUpload of 10,000 parts or a Delete of 1,000 keys. */
const MAX_XML_BYTES = 4 * 1024 * 1024;

/** The declared Content-Length of an upload: required (411), at most `max` (EntityTooLarge). */
export function uploadLength(request: S3Request, max: number): number {
  const header = request.req.headers["content-length"];
  if (header === undefined) throw new S3Error("MissingContentLength");
  if (!/^\d+$/.test(header))
    throw new S3Error("InvalidArgument", { message: "Content-Length is not a number" });
  const length = Number(header);
  if (length > max) throw new S3Error("EntityTooLarge");
  return length;
}

/** Checks Content-MD5 and the signed x-amz-content-sha256 against what was received. */
export function verifyDigests(request: S3Request, md5: Buffer, sha256Hex: string): void {
  const header = request.req.headers["content-md5"];
  const contentMd5 = Array.isArray(header) ? header.join(",") : header;
  if (contentMd5 !== undefined) {
    const expected = Buffer.from(contentMd5, "base64");
    if (expected.length !== 16 || expected.toString("base64") !== contentMd5.trim()) {
      throw new S3Error("InvalidDigest");
    }
    if (!expected.equals(md5)) throw new S3Error("BadDigest");
  }
  const declared = request.auth?.payloadHash ?? UNSIGNED_PAYLOAD;
  // A streamed body is vouched for chunk by chunk (or by its trailing checksum), not as a whole.
  if (request.auth?.streaming) return;
  if (declared !== UNSIGNED_PAYLOAD && declared !== sha256Hex) throw new S3Error("ContentSHA256Mismatch");
}

function headerText(request: S3Request, name: string): string | undefined {
  const value = request.req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** The names an x-amz-trailer header declares, lowercase. */
function declaredTrailers(request: S3Request): string[] {
  return (headerText(request, "x-amz-trailer") ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

/** The checksum a request promises for its body: its algorithm, and its value unless it trails. */
export interface PromisedChecksum {
  algorithm: ChecksumAlgorithm;
  /** The header's value; undefined when the value comes as a trailer. */
  value?: string;
}

const CHECKSUM_VALUE_HEADER = /^x-amz-checksum-(?!mode$|algorithm$|type$)/;

/**
 * The checksum an upload promises, as S3 reads it: one x-amz-checksum-<algorithm> header or a
 * trailer named by x-amz-trailer, agreeing with x-amz-sdk-checksum-algorithm when that is sent.
 */
export function promisedChecksum(request: S3Request): PromisedChecksum | undefined {
  const promised: PromisedChecksum[] = [];
  for (const name of Object.keys(request.req.headers)) {
    if (!CHECKSUM_VALUE_HEADER.test(name)) continue;
    const algorithm = algorithmNamed(name);
    if (!algorithm) throw new S3Error("InvalidChecksum");
    const value = headerText(request, name) ?? "";
    if (Buffer.from(value, "base64").length !== digestLength(algorithm)) throw new S3Error("InvalidChecksum");
    promised.push({ algorithm, value });
  }
  for (const name of declaredTrailers(request)) {
    if (!name.startsWith("x-amz-checksum-")) continue;
    const algorithm = algorithmNamed(name);
    if (!algorithm) throw new S3Error("InvalidChecksum");
    promised.push({ algorithm });
  }
  if (promised.length > 1) throw new S3Error("MultipleChecksums");
  const sdkAlgorithm = headerText(request, "x-amz-sdk-checksum-algorithm");
  if (sdkAlgorithm !== undefined) {
    const named = algorithmNamed(sdkAlgorithm);
    if (!named || (promised[0] && promised[0].algorithm !== named)) throw new S3Error("InvalidChecksum");
    if (!promised[0]) throw new S3Error("MissingChecksum");
  }
  return promised[0];
}

/** How the body arrives: as sent, or aws-chunked (decoded, its chunk signatures checked). */
function bodyFraming(request: S3Request): { length: number; decoder?: AwsChunkedDecoder } {
  const streaming = request.auth?.streaming;
  if (!streaming) return { length: uploadLength(request, MAX_SINGLE_UPLOAD_BYTES) };
  const decoded = headerText(request, "x-amz-decoded-content-length");
  if (decoded === undefined) throw new S3Error("MissingContentLength");
  if (!/^\d+$/.test(decoded)) {
    throw new S3Error("InvalidArgument", { message: "x-amz-decoded-content-length is not a number" });
  }
  const length = Number(decoded);
  if (length > MAX_SINGLE_UPLOAD_BYTES) throw new S3Error("EntityTooLarge");
  const trailers = declaredTrailers(request);
  if (trailers.length > 0 && !streaming.payload.endsWith("-TRAILER"))
    throw new S3Error("MalformedChunkedEncoding");
  return {
    length,
    decoder: new AwsChunkedDecoder({
      trailers,
      ...(streaming.signing ? { signing: streaming.signing } : {}),
    }),
  };
}

/**
 * Receives an upload body to a temporary file and checks its length, its digests and the
 * checksum it promises (computing `algorithm` too when none is promised, for a multipart
 * upload created with one).
 */
export async function receiveUpload(
  core: S3Core,
  request: S3Request,
  algorithm?: ChecksumAlgorithm,
): Promise<ReceivedBody> {
  const promised = promisedChecksum(request);
  const { length, decoder } = bodyFraming(request);
  const computed = promised?.algorithm ?? algorithm;
  let body: ReceivedBody;
  try {
    // No more than the declared length is taken: a longer body is refused as it arrives.
    body = await core.store.receive(request.req, length, {
      ...(decoder ? { decoder } : {}),
      ...(computed ? { checksum: computed } : {}),
    });
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new S3Error("IncompleteBody");
    throw error;
  }
  try {
    if (body.size !== length) throw new S3Error("IncompleteBody");
    verifyDigests(request, body.md5, body.sha256Hex);
    if (promised && body.checksum) {
      const value = promised.value ?? decoder?.trailers.get(checksumHeader(promised.algorithm)) ?? "";
      if (Buffer.from(value, "base64").length !== digestLength(promised.algorithm)) {
        throw new S3Error("InvalidChecksum");
      }
      if (value !== body.checksum.value) throw new S3Error("ContentChecksumMismatch");
    }
    return body;
  } catch (error) {
    await core.store.discard(body);
    throw error;
  }
}

/** Reads a small XML request body, checking its digests. */
export async function readXmlBody(request: S3Request): Promise<string> {
  let body: Buffer;
  try {
    body = await readBody(request.req, MAX_XML_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new S3Error("EntityTooLarge");
    throw error;
  }
  verifyDigests(
    request,
    createHash("md5").update(body).digest(),
    createHash("sha256").update(body).digest("hex"),
  );
  return body.toString("utf8");
}
