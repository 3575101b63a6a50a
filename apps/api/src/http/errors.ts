import type { Logger } from "@recfleet/runtime";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { problemFromBodyParser } from "./body.ts";
import { isRedisUnavailable, serviceUnavailable } from "./dependency.ts";
import { ProblemError, sendProblem } from "./problem.ts";

/** Answers 405 with the methods a route has (HEAD comes with GET). */
export function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
  return (req) => {
    throw new ProblemError("method-not-allowed", {
      detail: `${req.method} is not allowed here; allowed: ${allow}.`,
      headers: { Allow: allow },
    });
  };
}

export const notFound: RequestHandler = (req) => {
  throw new ProblemError("not-found", {
    detail: `There is nothing at ${req.method} ${req.path}.`,
  });
};

/**
 * Errors Express and its body parsers raise for a bad request (http-errors with a 4xx status):
 * an undecodable path (`%zz`) is as absent as an unknown id; a body that cannot be decoded
 * (a wrong Content-Encoding) is unsupported.
 */
function problemFromClientError(error: unknown, path: string): ProblemError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500) return undefined;
  if (error instanceof URIError) {
    return new ProblemError("not-found", {
      detail: `There is nothing at ${path}: the path is not valid percent-encoding.`,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProblemError("unsupported-media-type", {
    detail: `The request body could not be decoded (${message}); send uncompressed UTF-8 JSON.`,
  });
}

/**
 * The one error handler: known problems as they are, body-parser errors and an unreachable
 * Redis mapped to their problems, anything else a logged 500 that reveals nothing inside.
 */
export function errorHandler(logger: Logger, bodyLimit: number): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    let problem: ProblemError;
    if (error instanceof ProblemError) problem = error;
    else if (isRedisUnavailable(error))
      problem = serviceUnavailable("Redis is not reachable; retry shortly.");
    else {
      const fromParser = problemFromBodyParser(error, bodyLimit) ?? problemFromClientError(error, req.path);
      if (fromParser) problem = fromParser;
      else {
        logger.error({ err: error, requestId: res.locals.requestId }, "unexpected error");
        problem = new ProblemError("internal-error", {
          detail: `Something went wrong on our side; quote request id ${String(res.locals.requestId)} when reporting it.`,
        });
      }
    }
    sendProblem(req, res, problem);
  };
}
