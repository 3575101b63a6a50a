import { type Share, shareExpiry } from "@recfleet/recordings";
import { Router } from "express";
import { requireScope } from "../http/auth.ts";
import { jsonBody } from "../http/body.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { recordingUrl } from "../http/links.ts";
import { ProblemError } from "../http/problem.ts";
import { createShareRequestSchema, parseOrThrow } from "../schemas.ts";
import type { RouteContext } from "./context.ts";
import { loadVisible } from "./visible.ts";

/** POST/GET /v1/recordings/:id/shares, DELETE /v1/recordings/:id/shares/:shareId. */
export function shareRoutes(ctx: RouteContext): Router {
  const { shares, work, links, api } = ctx;
  const router = Router();
  const present = (recordingId: string, share: Share) => ({
    ...share,
    links: { self: `${recordingUrl(links, recordingId)}/shares/${encodeURIComponent(share.id)}` },
  });

  router
    .route("/v1/recordings/:id/shares")
    .post(
      requireScope("recordings:write"),
      ...jsonBody(api.bodyLimit, { required: false }),
      async (req, res) => {
        const body = parseOrThrow(createShareRequestSchema, req.body ?? {}, "body");
        const recording = await loadVisible(ctx, res, req.params.id);
        if (recording.status !== "saved" && recording.status !== "notified") {
          throw new ProblemError("recording-not-saved", {
            detail: `Recording ${recording.id} is ${recording.status}: only a recording whose files are stored can be shared.`,
            extensions: { recording: { id: recording.id, status: recording.status } },
          });
        }
        const { share, token } = await work(
          shares.create({
            recording,
            expiresAt: shareExpiry(recording, body.expiresInSeconds * 1000, new Date()),
            note: body.note ?? null,
            by: "api",
          }),
          "making the share link",
        );
        const self = present(recording.id, share);
        res
          .status(201)
          .location(self.links.self)
          .json({ ...self, url: `${links}/watch/${token}` });
      },
    )
    .get(requireScope("recordings:read"), async (req, res) => {
      const recording = await loadVisible(ctx, res, req.params.id);
      const items = await work(shares.list(recording.id), "reading the share links");
      res.json({ items: items.map((share) => present(recording.id, share)) });
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router
    .route("/v1/recordings/:id/shares/:shareId")
    .delete(requireScope("recordings:write"), async (req, res) => {
      const recording = await loadVisible(ctx, res, req.params.id);
      const revoked = await work(shares.revoke(recording.id, req.params.shareId), "revoking the share link");
      if (!revoked) {
        throw new ProblemError("not-found", {
          detail: `Recording ${recording.id} has no share link ${req.params.shareId.slice(0, 64)}.`,
        });
      }
      res.status(204).end();
    })
    .all(methodNotAllowed(["DELETE"]));

  return router;
}
