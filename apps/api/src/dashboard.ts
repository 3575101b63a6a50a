import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { ApiConfig } from "@recfleet/config";
import { QUEUE_NAMES, type QueueName } from "@recfleet/queues";
import type { Queue } from "bullmq";
import { type RequestHandler, Router } from "express";
import { basicAuth } from "./http/auth.ts";

export const DASHBOARD_PATH = "/admin/queues";

/**
 * bull-board over every queue of the fleet, behind HTTP basic auth (the board has none of its
 * own). Returns undefined — no route at all, so /admin/queues is a 404 — unless both the
 * dashboard user and password are set.
 */
export function dashboardRouter(api: ApiConfig, queues: Record<QueueName, Queue>): Router | undefined {
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
    basicAuth(api.dashboardUser, api.dashboardPassword),
    serverAdapter.getRouter() as RequestHandler,
  );
  return router;
}
