import { createHmac, timingSafeEqual } from "node:crypto";

/** The claims LiveKit puts in its HS256 tokens (only the ones the emulator reads or writes). */
export interface LiveKitClaims {
  iss?: string;
  sub?: string;
  exp?: number;
  nbf?: number;
  video?: { roomRecord?: boolean; [grant: string]: unknown };
  sha256?: string;
  [claim: string]: unknown;
}

export class TokenParseError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "TokenParseError";
  }
}

/** A token that parsed but did not verify; the message mirrors go-jose's, which LiveKit echoes. */
export class TokenVerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenVerifyError";
  }
}

export interface ParsedToken {
  header: Record<string, unknown>;
  claims: LiveKitClaims;
  signingInput: string;
  signature: Buffer;
}

// go-jose validates exp/nbf with a one minute leeway (jwt.DefaultLeeway), and so does LiveKit.
const LEEWAY_SECONDS = 60;

function base64UrlJson(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TokenParseError("a JWT part is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS without checking it: enough to learn the issuer (API key). */
export function parseToken(token: string): ParsedToken {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TokenParseError("a JWT has three dot-separated parts");
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  let header: Record<string, unknown>;
  let claims: LiveKitClaims;
  try {
    header = base64UrlJson(headerPart);
    claims = base64UrlJson(payloadPart) as LiveKitClaims;
  } catch (error) {
    if (error instanceof TokenParseError) throw error;
    throw new TokenParseError(`undecodable JWT: ${(error as Error).message}`);
  }
  // LiveKit accepts only HS256 (jwt.ParseSigned with an allow-list of one algorithm).
  if (header.alg !== "HS256")
    throw new TokenParseError(`unexpected signature algorithm ${String(header.alg)}`);
  return {
    header,
    claims,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, "base64url"),
  };
}

function hmac(secret: string, input: string): Buffer {
  return createHmac("sha256", secret).update(input).digest();
}

/** Checks the signature, then exp and nbf, like go-jose's `Claims` + `Validate`. */
export function verifyToken(
  parsed: ParsedToken,
  secret: string,
  nowSeconds = Date.now() / 1000,
): LiveKitClaims {
  const expected = hmac(secret, parsed.signingInput);
  if (expected.length !== parsed.signature.length || !timingSafeEqual(expected, parsed.signature)) {
    throw new TokenVerifyError("go-jose/go-jose: error in cryptographic primitive");
  }
  const { exp, nbf } = parsed.claims;
  if (typeof exp === "number" && nowSeconds - LEEWAY_SECONDS > exp) {
    throw new TokenVerifyError("go-jose/go-jose/jwt: validation failed, token is expired (exp)");
  }
  if (typeof nbf === "number" && nowSeconds + LEEWAY_SECONDS < nbf) {
    throw new TokenVerifyError("go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)");
  }
  return parsed.claims;
}

/** Signs claims as a compact HS256 JWS. */
export function signToken(claims: LiveKitClaims, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signingInput = `${header}.${payload}`;
  return `${signingInput}.${hmac(secret, signingInput).toString("base64url")}`;
}
