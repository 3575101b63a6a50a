import type { Request, Response } from "express";

/** Every problem type the API answers with; docs/api.md lists them with their meaning. */
export const PROBLEM_BASE = "https://recfleet.dev/problems/";

export const PROBLEM_TYPES = {
  "validation-error": { status: 400, title: "The request is not valid" },
  "malformed-json": { status: 400, title: "The request body is not valid JSON" },
  unauthorized: { status: 401, title: "Authentication required" },
  "invalid-webhook-signature": { status: 401, title: "The webhook signature is not valid" },
  forbidden: { status: 403, title: "The request is not allowed" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  "recording-in-progress": {
    status: 409,
    title: "A recording of this room and kind is already in progress",
  },
  "recording-not-in-progress": { status: 409, title: "The recording is not in progress" },
  "stop-already-requested": { status: 409, title: "A stop was already requested" },
  "recording-not-saved": { status: 409, title: "The recording's files are not stored" },
  "delivery-in-progress": { status: 409, title: "The callback is still being delivered" },
  "no-callback": { status: 409, title: "The tenant has no callback endpoint for this event" },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  "unknown-profile": { status: 422, title: "Unknown encoding profile" },
  "recipient-not-allowed": { status: 422, title: "The tenant may not email this address" },
  "idempotency-key-reused": {
    status: 422,
    title: "The Idempotency-Key was used with a different request",
  },
  "too-many-failed-authentications": {
    status: 429,
    title: "Too many failed authentications from this address",
  },
  "rate-limited": { status: 429, title: "The tenant's limit is reached" },
  "internal-error": { status: 500, title: "Internal error" },
  "service-unavailable": { status: 503, title: "Service temporarily unavailable" },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

/** One invalid input, located in the body (with a JSON pointer), the query, a path or a header. */
export interface FieldError {
  location: "body" | "query" | "path" | "header";
  field: string;
  /** RFC 6901 JSON pointer into the body; only for location "body". */
  pointer?: string;
  message: string;
}

export interface ProblemInit {
  detail: string;
  errors?: FieldError[];
  /** Extension members (RFC 9457 §3.2), e.g. the recording a conflict is about. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Thrown by handlers and middleware; the error handler turns it into application/problem+json. */
export class ProblemError extends Error {
  readonly type: ProblemType;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(type: ProblemType, init: ProblemInit) {
    super(init.detail);
    this.name = "ProblemError";
    this.type = type;
    this.status = PROBLEM_TYPES[type].status;
    this.errors = init.errors;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }
}

export function problemTypeUri(type: ProblemType): string {
  return `${PROBLEM_BASE}${type}`;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

/** Writes an RFC 9457 problem document. */
export function sendProblem(req: Request, res: Response, problem: ProblemError): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  const body = {
    type: problemTypeUri(problem.type),
    title: PROBLEM_TYPES[problem.type].title,
    status: problem.status,
    detail: problem.message,
    instance: req.originalUrl.split("?")[0],
    requestId: res.locals.requestId as string | undefined,
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...problem.extensions,
  };
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
