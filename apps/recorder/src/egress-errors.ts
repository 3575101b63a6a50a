// Classifies what LiveKit Egress (or the network on the way) answered, once, near the boundary.
// Handlers branch on the class, never on strings.

export type EgressErrorClass =
  /** The fleet is full, busy or unreachable, or the call timed out: try again later. */
  | "retryable"
  /** The request itself is wrong or not allowed: retrying cannot help. */
  | "permanent"
  /** StopEgress on an egress that already ended. */
  | "already_ended"
  /** The egress id is unknown to LiveKit. */
  | "not_found";

export interface ClassifiedEgressError {
  class: EgressErrorClass;
  /** Twirp code, or a transport description such as "timeout" or "network". */
  code: string;
  message: string;
}

/** Twirp error code → class. Codes not listed are treated as retryable server trouble. */
export const TWIRP_CODE_CLASS: Record<string, EgressErrorClass> = {
  unavailable: "retryable",
  deadline_exceeded: "retryable",
  canceled: "retryable",
  resource_exhausted: "retryable",
  aborted: "retryable",
  internal: "retryable",
  unknown: "retryable",
  invalid_argument: "permanent",
  malformed: "permanent",
  out_of_range: "permanent",
  permission_denied: "permanent",
  unauthenticated: "permanent",
  unimplemented: "permanent",
  bad_route: "permanent",
  already_exists: "permanent",
  data_loss: "permanent",
  failed_precondition: "already_ended",
  not_found: "not_found",
};

interface ServerErrorShape {
  status?: unknown;
  code?: unknown;
  message?: unknown;
  name?: unknown;
  cause?: unknown;
}

function httpStatusClass(status: number): EgressErrorClass {
  if (status === 401 || status === 403) return "permanent";
  if (status === 404) return "not_found";
  if (status === 408 || status === 429 || status >= 500) return "retryable";
  return "permanent";
}

export function classifyEgressError(error: unknown): ClassifiedEgressError {
  const shape = (typeof error === "object" && error !== null ? error : {}) as ServerErrorShape;
  const message = typeof shape.message === "string" ? shape.message : String(error);
  // A ServerError from livekit-server-sdk: HTTP status plus the Twirp code when the body was JSON.
  if (typeof shape.status === "number") {
    const code = typeof shape.code === "string" ? shape.code : `http_${shape.status}`;
    const byCode = typeof shape.code === "string" ? TWIRP_CODE_CLASS[shape.code] : undefined;
    return { class: byCode ?? httpStatusClass(shape.status), code, message };
  }
  // fetch aborted by the SDK's request timeout: the call may still succeed on the server.
  if (shape.name === "TimeoutError" || shape.name === "AbortError") {
    return { class: "retryable", code: "timeout", message };
  }
  // fetch failed: connection refused or reset, DNS, TLS …
  if (shape.name === "TypeError" || (typeof shape.cause === "object" && shape.cause !== null)) {
    const cause = shape.cause as { code?: unknown; message?: unknown } | undefined;
    const detail =
      typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
    return { class: "retryable", code: "network", message: detail ? `${message} (${detail})` : message };
  }
  return { class: "retryable", code: "unexpected", message };
}
