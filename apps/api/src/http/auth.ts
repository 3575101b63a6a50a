import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { ProblemError } from "./problem.ts";

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Constant-time membership test: both sides are hashed first (equal lengths for timingSafeEqual,
 * and the length of a key never shows), and every candidate is compared, match or not.
 */
function matchIndex(candidates: readonly Buffer[], presented: string): number {
  const digest = sha256(presented);
  let found = -1;
  for (const [index, candidate] of candidates.entries()) {
    if (timingSafeEqual(candidate, digest) && found === -1) found = index;
  }
  return found;
}

export const BEARER_CHALLENGE = 'Bearer realm="recfleet"';

/**
 * `Authorization: Bearer <key>` against API_KEYS (several, for rotation). On success,
 * `res.locals.apiKeyId` holds a hash of the key (for idempotency scopes and logs), never the key.
 */
export function bearerAuth(apiKeys: readonly string[]): RequestHandler {
  const hashes = apiKeys.map(sha256);
  return (req, res, next) => {
    const header = req.get("authorization");
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new ProblemError("unauthorized", {
        detail: "Send an API key as 'Authorization: Bearer <key>'.",
        headers: { "WWW-Authenticate": BEARER_CHALLENGE },
      });
    }
    const index = matchIndex(hashes, match[1] ?? "");
    if (index === -1) {
      throw new ProblemError("unauthorized", {
        detail: "The API key is not valid.",
        headers: { "WWW-Authenticate": `${BEARER_CHALLENGE}, error="invalid_token"` },
      });
    }
    res.locals.apiKeyId = keyId(hashes[index] as Buffer);
    next();
  };
}

/** A short, stable, non-reversible name of an API key. */
function keyId(hash: Buffer): string {
  return createHash("sha256").update(hash).digest("hex").slice(0, 16);
}

/** HTTP basic auth for the queue dashboard, compared in constant time. */
export function basicAuth(user: string, password: string): RequestHandler {
  const expected = [sha256(`${user}:${password}`)];
  const challenge = 'Basic realm="recfleet dashboard", charset="UTF-8"';
  return (req, _res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const credentials = match ? Buffer.from(match[1] ?? "", "base64").toString("utf8") : "";
    if (matchIndex(expected, credentials) === -1) {
      throw new ProblemError("unauthorized", {
        detail: "The queue dashboard needs the dashboard user name and password (HTTP basic auth).",
        headers: { "WWW-Authenticate": challenge },
      });
    }
    next();
  };
}
