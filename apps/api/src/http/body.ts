import type { IncomingHttpHeaders } from "node:http";
import express, { type RequestHandler } from "express";
import { ProblemError } from "./problem.ts";

const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * Parses a JSON request body of at most `limit` bytes. A body of another type is refused with
 * 415; without a body, `required` decides between 415 and an empty object. Size and syntax
 * errors of the parser become 413 and 400 problems in the error handler.
 */
export function jsonBody(limit: number, options: { required: boolean }): RequestHandler[] {
  const checkType: RequestHandler = (req, _res, next) => {
    // "Content-Length: 0" counts as no body (fetch sends it for a bodiless POST).
    const empty = req.get("content-length") === "0" || !hasBody(req.headers);
    if (empty && !options.required) {
      req.body = {};
      return next();
    }
    if (empty || !req.is(JSON_TYPES)) {
      const sent = req.get("content-type");
      throw new ProblemError("unsupported-media-type", {
        detail: sent
          ? `Content-Type ${sent} is not accepted: send JSON with Content-Type: application/json.`
          : "This request needs a JSON body with Content-Type: application/json.",
        headers: { "Accept-Post": "application/json" },
      });
    }
    next();
  };
  return [checkType, express.json({ limit, strict: true, type: JSON_TYPES })];
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers["transfer-encoding"] !== undefined || headers["content-length"] !== undefined;
}

/** body-parser's error types, as problems. */
export function problemFromBodyParser(error: unknown, limit: number): ProblemError | undefined {
  if (typeof error !== "object" || error === null || !("type" in error)) return undefined;
  const type = (error as { type: unknown }).type;
  const message = error instanceof Error ? error.message : String(error);
  switch (type) {
    case "entity.too.large": {
      // The limit of the parser that refused it (webhooks have their own), not the API's default.
      const applied = (error as { limit?: unknown }).limit;
      const bytes = typeof applied === "number" ? applied : limit;
      return new ProblemError("payload-too-large", {
        detail: `The request body is larger than the limit of ${bytes} bytes.`,
        extensions: { limitBytes: bytes },
      });
    }
    case "entity.parse.failed":
      return new ProblemError("malformed-json", { detail: `The body is not valid JSON: ${message}` });
    case "encoding.unsupported":
    case "charset.unsupported":
      return new ProblemError("unsupported-media-type", {
        detail: `${message}; send UTF-8 JSON.`,
      });
    case "request.aborted":
    case "request.size.invalid":
    case "entity.verify.failed":
      return new ProblemError("validation-error", { detail: `The body could not be read: ${message}` });
    default:
      return undefined;
  }
}
