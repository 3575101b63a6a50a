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
  // livekit-server (pkg/service/auth.go) names neither the key nor the token in these answers.
  if (!secret) return { kind: "rejected", message: "invalid API key" };
  try {
    return { kind: "ok", claims: verifyToken(parsed, secret), apiKey };
  } catch (error) {
    return { kind: "rejected", message: `invalid authorization token: ${(error as Error).message}` };
  }
}

/** EnsureRecordPermission: every Egress method needs `video.roomRecord`. */
export function hasRoomRecord(auth: AuthResult): boolean {
  return auth.kind === "ok" && auth.claims.video?.roomRecord === true;
}

/** A RoomService grant; `roomAdmin` also needs the token's `room` to be the one asked about. */
export function hasGrant(
  auth: AuthResult,
  grant: "roomCreate" | "roomList" | "roomAdmin",
  room?: string,
): boolean {
  if (auth.kind !== "ok") return false;
  const video = auth.claims.video;
  if (video?.[grant] !== true) return false;
  return grant !== "roomAdmin" || video.room === room;
}
