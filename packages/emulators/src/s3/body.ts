// Request bodies: the length rules of S3 and the digests a signed request promises.
import { createHash } from "node:crypto";
import { BodyTooLargeError, readBody } from "../common/http.ts";
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
  if (declared !== UNSIGNED_PAYLOAD && declared !== sha256Hex) throw new S3Error("ContentSHA256Mismatch");
}

/** Receives an upload body to a temporary file and checks its length and digests. */
export async function receiveUpload(core: S3Core, request: S3Request): Promise<ReceivedBody> {
  const length = uploadLength(request, MAX_SINGLE_UPLOAD_BYTES);
  const body = await core.store.receive(request.req, length);
  try {
    if (body.size !== length) throw new S3Error("IncompleteBody");
    verifyDigests(request, body.md5, body.sha256Hex);
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
