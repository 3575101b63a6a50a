// AWS Signature Version 4 verification, header and presigned (query) forms, as S3 and MinIO
// check them: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { type ChunkSigning, STREAMING_PAYLOADS, STREAMING_UNSIGNED_TRAILER } from "./aws-chunked.ts";
import { type Query, sigV4Encode } from "./encoding.ts";
import { S3Error } from "./errors.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
export const MAX_PRESIGN_EXPIRES_S = 604_800;
/** MinIO's globalMaxSkewTime. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** The decoded path, e.g. `/bucket/a key.mp4`; SigV4 encodes it again. */
  path: string;
  query: Query;
  headers: IncomingHttpHeaders;
}

export interface VerifyOptions {
  secretFor(accessKey: string): string | undefined;
  /** The site region; undefined accepts any region in the credential scope (MinIO's default). */
  region: string | undefined;
  /** GetBucketLocation and ListBuckets are accepted whatever the scope's region (as MinIO does). */
  anyRegion: boolean;
  now: Date;
}

export interface AuthResult {
  accessKey: string;
  /** The body's promised SHA-256 (64 hex digits), or UNSIGNED-PAYLOAD when it is not to be checked. */
  payloadHash: string;
  presigned: boolean;
  /** For an aws-chunked body (x-amz-content-sha256 STREAMING-…): how its chunks are checked. */
  streaming?: { payload: string; signing?: ChunkSigning };
}

interface Scope {
  accessKey: string;
  date: string;
  region: string;
}

export function signingKey(secretKey: string, date: string, region: string, service = "s3"): Buffer {
  const kDate = createHmac("sha256", `AWS4${secretKey}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined.trim().replace(/\s+/g, " ");
}

export function canonicalRequest(
  request: SignedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
  excludeQuery?: string,
): string {
  return [
    request.method.toUpperCase(),
    sigV4Encode(request.path || "/", true),
    request.query.canonical(excludeQuery),
    `${signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}`).join("\n")}\n`,
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

export function stringToSign(amzDate: string, scope: Scope, canonical: string): string {
  return [
    ALGORITHM,
    amzDate,
    `${scope.date}/${scope.region}/s3/aws4_request`,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
}

export function signature(secretKey: string, scope: Scope, amzDate: string, canonical: string): string {
  return createHmac("sha256", signingKey(secretKey, scope.date, scope.region))
    .update(stringToSign(amzDate, scope, canonical))
    .digest("hex");
}

/** Parses `AKID/YYYYMMDD/REGION/s3/aws4_request` and checks the scope against the site. */
function parseCredential(credential: string, options: VerifyOptions, presigned: boolean): Scope {
  const parts = credential.split("/");
  if (parts.length < 5) throw new S3Error("CredentialMalformed");
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join("/");
  if (accessKey === "") throw new S3Error("CredentialMalformed");
  if (!/^\d{8}$/.test(date)) throw new S3Error("MalformedCredentialDate");
  if (service !== "s3") throw new S3Error("InvalidServiceS3");
  if (terminal !== "aws4_request") throw new S3Error("InvalidRequestVersion");
  if (!options.anyRegion && options.region !== undefined && region !== options.region) {
    if (presigned) throw new S3Error("MalformedCredentialRegion");
    throw new S3Error("AuthorizationHeaderMalformed", {
      message: `The authorization header is malformed; the region is wrong; expecting '${options.region}'.`,
      extra: { Region: options.region },
    });
  }
  return { accessKey, date, region };
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function parseAmzDate(value: string): Date | undefined {
  const match = AMZ_DATE.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second));
  // Date.UTC rolls 2024-13-40 over into a valid date: only an exact round trip is a real date.
  return Number.isNaN(date.getTime()) || formatAmzDate(date) !== value ? undefined : date;
}

export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(";").filter((name) => name !== "");
  // A request whose Host is not signed could be replayed against another host: refused.
  if (!names.includes("host")) throw new S3Error("UnsignedHeaders");
  return names;
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, "utf8");
  const b = Buffer.from(given.toLowerCase(), "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

function secretOf(scope: Scope, options: VerifyOptions): string {
  const secret = options.secretFor(scope.accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId");
  return secret;
}

function verifyHeaderAuth(request: SignedRequest, authorization: string, options: VerifyOptions): AuthResult {
  if (!authorization.startsWith(`${ALGORITHM} `)) throw new S3Error("SignatureVersionNotSupported");
  const fields = new Map<string, string>();
  for (const field of authorization.slice(ALGORITHM.length).split(",")) {
    const trimmed = field.trim();
    const equals = trimmed.indexOf("=");
    if (equals > 0) fields.set(trimmed.slice(0, equals), trimmed.slice(equals + 1));
  }
  const credential = fields.get("Credential");
  const signedHeadersField = fields.get("SignedHeaders");
  const given = fields.get("Signature");
  if (credential === undefined) throw new S3Error("MissingCredTag");
  if (signedHeadersField === undefined) throw new S3Error("MissingSignHeadersTag");
  if (given === undefined) throw new S3Error("MissingSignTag");
  const scope = parseCredential(credential, options, false);
  const signedHeaders = parseSignedHeaders(signedHeadersField);
  const secret = secretOf(scope, options);

  const amzDate = headerValue(request.headers, "x-amz-date");
  const plainDate = headerValue(request.headers, "date");
  let requestTime: Date | undefined;
  let dateForSigning = amzDate;
  if (amzDate !== "") requestTime = parseAmzDate(amzDate);
  else if (plainDate !== "") {
    const parsed = Date.parse(plainDate);
    requestTime = Number.isNaN(parsed) ? undefined : new Date(parsed);
    dateForSigning = requestTime ? formatAmzDate(requestTime) : "";
  } else throw new S3Error("MissingDateHeader");
  if (!requestTime) throw new S3Error("MalformedDate");
  if (Math.abs(options.now.getTime() - requestTime.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed");
  }

  const declared = headerValue(request.headers, "x-amz-content-sha256");
  // MinIO signs a request without the header as an empty payload, and then does not check the body.
  const payloadHash = declared === "" ? EMPTY_SHA256 : declared;
  const streaming = STREAMING_PAYLOADS.includes(payloadHash);
  if (payloadHash.startsWith("STREAMING-") && !streaming) {
    throw new S3Error("NotImplemented", {
      message: `x-amz-content-sha256: ${payloadHash} is not supported by this emulator; use ${STREAMING_PAYLOADS.join(", ")}, a payload hash or UNSIGNED-PAYLOAD`,
    });
  }
  if (!streaming && payloadHash !== UNSIGNED_PAYLOAD && !/^[0-9a-f]{64}$/.test(payloadHash)) {
    throw new S3Error("InvalidSHA256PayloadUsage");
  }

  const expected = signature(
    secret,
    scope,
    dateForSigning,
    canonicalRequest(request, signedHeaders, payloadHash),
  );
  if (!sameSignature(expected, given)) throw new S3Error("SignatureDoesNotMatch");
  const result: AuthResult = {
    accessKey: scope.accessKey,
    payloadHash: declared === "" ? UNSIGNED_PAYLOAD : payloadHash,
    presigned: false,
  };
  if (streaming) {
    // The request's signature seeds the chain of chunk signatures that follows in the body.
    result.streaming =
      payloadHash === STREAMING_UNSIGNED_TRAILER
        ? { payload: payloadHash }
        : {
            payload: payloadHash,
            signing: {
              signingKey: signingKey(secret, scope.date, scope.region),
              amzDate: dateForSigning,
              scope: `${scope.date}/${scope.region}/s3/aws4_request`,
              seedSignature: expected,
            },
          };
  }
  return result;
}

function verifyPresigned(request: SignedRequest, options: VerifyOptions): AuthResult {
  const { query } = request;
  const algorithm = query.get("X-Amz-Algorithm");
  const credential = query.get("X-Amz-Credential");
  const amzDate = query.get("X-Amz-Date");
  const expiresText = query.get("X-Amz-Expires");
  const signedHeadersField = query.get("X-Amz-SignedHeaders");
  const given = query.get("X-Amz-Signature");
  if (algorithm !== undefined && algorithm !== ALGORITHM) throw new S3Error("InvalidQuerySignatureAlgo");
  if (
    algorithm === undefined ||
    credential === undefined ||
    amzDate === undefined ||
    expiresText === undefined ||
    signedHeadersField === undefined ||
    given === undefined
  ) {
    throw new S3Error("InvalidQueryParams");
  }
  const scope = parseCredential(credential, options, true);
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw new S3Error("MalformedPresignedDate");
  if (!/^-?\d+$/.test(expiresText)) throw new S3Error("MalformedExpires");
  const expiresS = Number(expiresText);
  if (expiresS < 0) throw new S3Error("NegativeExpires");
  if (expiresS > MAX_PRESIGN_EXPIRES_S) throw new S3Error("MaximumExpires");
  const signedHeaders = parseSignedHeaders(signedHeadersField);
  const secret = secretOf(scope, options);
  // No STS here: a session token can only belong to credentials this server never issued.
  if (query.has("X-Amz-Security-Token")) throw new S3Error("InvalidTokenId");

  const now = options.now.getTime();
  if (signedAt.getTime() > now + MAX_CLOCK_SKEW_MS) throw new S3Error("RequestNotReadyYet");
  if (now - signedAt.getTime() > expiresS * 1000) throw new S3Error("ExpiredPresignRequest");

  const payloadHash = query.get("X-Amz-Content-Sha256") ?? UNSIGNED_PAYLOAD;
  const expected = signature(
    secret,
    scope,
    amzDate,
    canonicalRequest(request, signedHeaders, payloadHash, "X-Amz-Signature"),
  );
  if (!sameSignature(expected, given)) throw new S3Error("SignatureDoesNotMatch");
  return { accessKey: scope.accessKey, payloadHash, presigned: true };
}

/** Verifies a request's SigV4 signature; throws the S3Error MinIO would answer. */
export function verifyRequest(request: SignedRequest, options: VerifyOptions): AuthResult {
  const authorization = headerValue(request.headers, "authorization");
  const presigned = request.query.has("X-Amz-Credential") || request.query.has("X-Amz-Algorithm");
  if (authorization !== "" && presigned) {
    throw new S3Error("InvalidArgument", { message: "Only one auth mechanism allowed" });
  }
  if (authorization !== "") return verifyHeaderAuth(request, authorization, options);
  if (presigned) return verifyPresigned(request, options);
  if (request.query.has("AWSAccessKeyId") || request.query.has("Signature")) {
    throw new S3Error("SignatureVersionNotSupported");
  }
  // Anonymous access needs a bucket policy, and this emulator has none.
  throw new S3Error("AccessDenied");
}
