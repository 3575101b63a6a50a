import type { Delivery } from "@recfleet/recordings";
import { Router } from "express";
import { requireScope } from "../http/auth.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { recordingUrl } from "../http/links.ts";
import { ProblemError } from "../http/problem.ts";
import type { RouteContext } from "./context.ts";
import { loadVisible } from "./visible.ts";

/** GET /v1/recordings/:id/deliveries, POST /v1/recordings/:id/deliveries/:deliveryId/retry. */
export function deliveryRoutes(ctx: RouteContext): Router {
  const { deliveries, tenants, producer, work, links, logger } = ctx;
  const router = Router();

  const present = (recordingId: string, delivery: Delivery) => {
    const self = `${recordingUrl(links, recordingId)}/deliveries/${encodeURIComponent(delivery.id)}`;
    return { ...delivery, links: { retry: delivery.state === "pending" ? null : `${self}/retry` } };
  };

  router
    .route("/v1/recordings/:id/deliveries")
    .get(requireScope("recordings:read"), async (req, res) => {
      const recording = await loadVisible(ctx, res, req.params.id);
      const items = await work(deliveries.list(recording.id), "reading the deliveries");
      res.json({ items: items.map((delivery) => present(recording.id, delivery)) });
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/v1/recordings/:id/deliveries/:deliveryId/retry")
    .post(requireScope("recordings:write"), async (req, res) => {
      const recording = await loadVisible(ctx, res, req.params.id);
      const delivery = (await work(deliveries.list(recording.id), "reading the deliveries")).find(
        (entry) => entry.id === req.params.deliveryId,
      );
      if (!delivery) {
        throw new ProblemError("not-found", {
          detail: `Recording ${recording.id} has no delivery ${req.params.deliveryId.slice(0, 120)}.`,
        });
      }
      if (delivery.state === "pending") {
        throw new ProblemError("delivery-in-progress", {
          detail: `Delivery ${delivery.id} is still being attempted${delivery.nextAttemptAt ? `; next attempt at ${delivery.nextAttemptAt}` : ""}.`,
        });
      }
      const callback = tenants.get(recording.tenant)?.callback;
      if (!callback?.events.includes(delivery.event)) {
        throw new ProblemError("no-callback", {
          detail: `Tenant "${recording.tenant}" has no callback endpoint for ${delivery.event}.`,
        });
      }
      // Logged as pending first, then queued: the job finds its resend number in the log.
      const resent: Delivery = {
        ...delivery,
        state: "pending",
        resends: delivery.resends + 1,
        failingSince: null,
        nextAttemptAt: null,
      };
      await work(deliveries.put(recording.id, resent), "recording the resend");
      try {
        await work(
          producer.enqueue("callback", {
            recordingId: recording.id,
            event: delivery.event,
            occurredAt: delivery.occurredAt,
            resend: resent.resends,
          }),
          "queueing the callback",
        );
      } catch (error) {
        await deliveries.put(recording.id, delivery).catch(() => undefined);
        throw error;
      }
      logger.info(
        { recordingId: recording.id, event: delivery.event, resend: resent.resends },
        "callback resend queued",
      );
      res.status(202).json(present(recording.id, resent));
    })
    .all(methodNotAllowed(["POST"]));

  return router;
}
