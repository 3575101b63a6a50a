import { randomUUID } from "node:crypto";
import type { Logger } from "@recfleet/runtime";
import type { Request, RequestHandler, Response } from "express";
import type { ApiMetrics } from "../metrics.ts";
import type { Caller } from "./auth.ts";

/** Probed every few seconds by orchestrators and Prometheus: logged at debug level only. */
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The URL as logged: every query value replaced, so that whatever a client puts there (a key
 * sent as ?access_token=…, an email address) never reaches the logs; the names stay. A watch
 * page's token is replaced too.
 */
export function redactedUrl(url: string): string {
  // A share link's token is its access: the path of a watch page is logged without it.
  const originalUrl = url.replace(/^\/watch\/(?!assets(?:[/?]|$))[^/?]*/, "/watch/{token}");
  const mark = originalUrl.indexOf("?");
  if (mark === -1) return originalUrl;
  const names = originalUrl
    .slice(mark + 1)
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const name = pair.split("=", 1)[0] ?? "";
      return `${name.length <= 64 ? name : `${name.slice(0, 64)}…`}=[redacted]`;
    });
  return `${originalUrl.slice(0, mark)}?${names.join("&")}`;
}

/** The route template a request matched ("/v1/recordings/:id"), for logs and metric labels. */
export function routeOf(req: Request, res: Response): string {
  // Mounted sub-applications (the dashboard) name themselves: their routes are not ours.
  if (typeof res.locals.route === "string") return res.locals.route;
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === "string") return `${req.baseUrl}${route.path}`;
  return "(unmatched)";
}

/**
 * Request id (accepted from X-Request-Id when it is sane, else generated, always echoed), one
 * log line per request and the duration histogram. Headers are logged under req.headers, where
 * the logger redacts Authorization (API keys, dashboard passwords, webhook tokens).
 */
export function requestContext(logger: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const offered = req.get("x-request-id");
    const requestId = offered && ACCEPTED_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req, res);
      // Set by bearerAuth on /v1 routes that authenticated.
      const caller = res.locals.caller as Caller | undefined;
      metrics.observeRequest({ method: req.method, route, status: res.statusCode }, seconds);
      const line = {
        req: {
          id: requestId,
          method: req.method,
          url: redactedUrl(req.originalUrl),
          route,
          remoteAddress: req.socket.remoteAddress,
          headers: req.headers,
        },
        res: { statusCode: res.statusCode },
        tenant: caller?.tenant.name,
        apiKeyId: caller?.keyId,
        responseTimeMs: Math.round(seconds * 1e4) / 10,
      };
      if (res.statusCode >= 500) logger.error(line, "request failed");
      else if (PROBES.has(route)) logger.debug(line, "request completed");
      else logger.info(line, "request completed");
    });
    next();
  };
}
