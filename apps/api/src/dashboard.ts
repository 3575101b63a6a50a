import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { ApiConfig } from "@recfleet/config";
import { QUEUE_NAMES, type QueueName } from "@recfleet/queues";
import type { Queue } from "bullmq";
import { type RequestHandler, Router } from "express";
import { basicAuth } from "./http/auth.ts";
import type { ApiLimits } from "./http/limits.ts";
import { ProblemError } from "./http/problem.ts";

export const DASHBOARD_PATH = "/admin/queues";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a change to the board from another site (CSRF): a browser marks every cross-origin
 * request with Origin (and Sec-Fetch-Site), and a basic-auth browser session would otherwise
 * carry the password along. Clients that are not browsers send neither and pass.
 */
function sameOriginWrites(publicUrl: string): RequestHandler {
  const expected = new URL(publicUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.get("sec-fetch-site");
    const origin = req.get("origin");
    if ((site !== undefined && site !== "same-origin") || (origin !== undefined && origin !== expected)) {
      throw new ProblemError("forbidden", {
        detail: `The dashboard accepts changes only from its own pages (${expected}).`,
      });
    }
    next();
  };
}

/**
 * bull-board over every queue of the fleet, behind HTTP basic auth (the board has none of its
 * own). Returns undefined — no route at all, so /admin/queues is a 404 — unless both the
 * dashboard user and password are set.
 */
export function dashboardRouter(
  api: ApiConfig,
  queues: Record<QueueName, Queue>,
  limits: ApiLimits,
): Router | undefined {
  if (api.dashboardUser === "" || api.dashboardPassword === "") return undefined;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map(
      (name) => new BullMQAdapter(queues[name], { readOnlyMode: api.dashboardReadOnly }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: "recfleet queues" } },
  });
  const labelRoute: RequestHandler = (_req, res, next) => {
    res.locals.route = DASHBOARD_PATH;
    next();
  };
  const router = Router();
  router.use(
    DASHBOARD_PATH,
    labelRoute,
    sameOriginWrites(api.publicUrl),
    basicAuth(api.dashboardUser, api.dashboardPassword, limits),
    serverAdapter.getRouter() as RequestHandler,
  );
  return router;
}
