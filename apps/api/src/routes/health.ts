import { runChecks } from "@recfleet/runtime";
import { Router } from "express";
import { serviceUnavailable } from "../http/dependency.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { ProblemError } from "../http/problem.ts";

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** GET /healthz (the process is up) and GET /readyz (every dependency answers in time). */
export function healthRoutes(checks: ReadinessChecks, timeoutMs: number): Router {
  const router = Router();
  router
    .route("/healthz")
    .get((_req, res) => {
      res.json({ status: "ok", uptimeS: Math.round(process.uptime()) });
    })
    .all(methodNotAllowed(["GET"]));
  router
    .route("/readyz")
    .get(async (_req, res) => {
      const result = await runChecks(checks, timeoutMs);
      const byName = result.checks;
      if (result.ok) {
        res.setHeader("Cache-Control", "no-store");
        res.json({ status: "ready", checks: byName });
        return;
      }
      const failing = Object.entries(byName)
        .filter(([, check]) => !check.ok)
        .map(([name]) => name);
      const unavailable = serviceUnavailable(`Not ready: ${failing.join(", ")} not reachable.`);
      throw new ProblemError("service-unavailable", {
        detail: unavailable.message,
        headers: unavailable.headers,
        extensions: { checks: byName },
      });
    })
    .all(methodNotAllowed(["GET"]));
  return router;
}
