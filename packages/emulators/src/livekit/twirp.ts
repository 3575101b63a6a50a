import type { ServerResponse } from "node:http";
import { sendJson } from "../common/http.ts";

// Twirp's error codes and the HTTP status each one is sent with (twirp.ServerHTTPStatusFromErrorCode).
const TWIRP_STATUS = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
} as const;

export type TwirpCode = keyof typeof TWIRP_STATUS;

export function twirpStatus(code: TwirpCode): number {
  return TWIRP_STATUS[code];
}

/** An error answered the way a Twirp server answers it: status from the code, JSON body. */
export class TwirpError extends Error {
  readonly code: TwirpCode;
  readonly meta: Record<string, string>;

  constructor(code: TwirpCode, msg: string, meta: Record<string, string> = {}) {
    super(msg);
    this.name = "TwirpError";
    this.code = code;
    this.meta = meta;
  }

  get status(): number {
    return twirpStatus(this.code);
  }

  /** Twirp's wire form: `meta` is `omitempty` in twirp-go, so it only appears when set. */
  toJSON(): { code: TwirpCode; msg: string; meta?: Record<string, string> } {
    return Object.keys(this.meta).length > 0
      ? { code: this.code, msg: this.message, meta: this.meta }
      : { code: this.code, msg: this.message };
  }
}

/** twirp-go's badRouteError: the route is named in meta so a caller can see what it hit. */
export function badRoute(msg: string, method: string, path: string): TwirpError {
  return new TwirpError("bad_route", msg, { twirp_invalid_route: `${method} ${path}` });
}

export function writeTwirpError(res: ServerResponse, error: TwirpError): void {
  // The SDK only parses the body as JSON when the content type is exactly application/json.
  sendJson(res, error.status, error.toJSON());
}

/** What LiveKit's auth middleware answers before Twirp sees the request: status and plain text. */
export function writePlainError(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
