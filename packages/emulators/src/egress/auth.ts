import type { IncomingMessage } from "node:http";
import { type LiveKitClaims, parseToken, TokenParseError, verifyToken } from "./jwt.ts";

export type AuthResult =
  | { kind: "anonymous" }
  | { kind: "ok"; claims: LiveKitClaims; apiKey: string }
  /** Rejected by the middleware: 401 with this plain-text body, before Twirp sees the request. */
  | { kind: "rejected"; message: string };

const BEARER = "Bearer ";

/**
 * livekit-server's APIKeyAuthMiddleware: a token comes from `Authorization: Bearer …` or the
 * `access_token` query parameter; no token at all is let through without grants.
 */
export function authenticate(req: IncomingMessage, keys: ReadonlyMap<string, string>): AuthResult {
  const header = req.headers.authorization;
  let token: string;
  if (header !== undefined && header !== "") {
    if (!header.startsWith(BEARER)) {
      return { kind: "rejected", message: `invalid authorization header. Must start with ${BEARER}` };
    }
    token = header.slice(BEARER.length);
  } else {
    token = new URL(req.url ?? "/", "http://emulator").searchParams.get("access_token") ?? "";
  }
  if (token === "") return { kind: "anonymous" };

  let parsed: ReturnType<typeof parseToken>;
  try {
    parsed = parseToken(token);
  } catch (error) {
    if (error instanceof TokenParseError) return { kind: "rejected", message: "invalid authorization token" };
    throw error;
  }
  const apiKey = typeof parsed.claims.iss === "string" ? parsed.claims.iss : "";
  const secret = keys.get(apiKey);
  if (!secret) return { kind: "rejected", message: `invalid API key: ${apiKey}` };
  try {
    return { kind: "ok", claims: verifyToken(parsed, secret), apiKey };
  } catch (error) {
    // livekit-server echoes the token itself in this message.
    return { kind: "rejected", message: `invalid token: ${token}, error: ${(error as Error).message}` };
  }
}

/** EnsureRecordPermission: every Egress method needs `video.roomRecord`. */
export function hasRoomRecord(auth: AuthResult): boolean {
  return auth.kind === "ok" && auth.claims.video?.roomRecord === true;
}
