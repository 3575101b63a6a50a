import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AdminRequestError, readJsonBody } from "../common/admin.ts";
import { sendJson } from "../common/http.ts";
import { EgressAdminError, type EgressSnapshot, type FailOptions } from "./egress-fleet.ts";
import { type EgressFaults, InvalidFaultsError } from "./faults.ts";
import type { RecordedRequest } from "./request-log.ts";
import type { WebhookDelivery } from "./webhooks.ts";

export const ADMIN_PREFIX = "/_admin";

/** What the admin endpoint exposes; the programmatic handle offers the same operations. */
export interface EgressAdminApi {
  faults(): EgressFaults;
  setFaults(patch: unknown): EgressFaults;
  requests(): RecordedRequest[];
  egresses(): EgressSnapshot[];
  egress(egressId: string): EgressSnapshot | undefined;
  webhooks(): WebhookDelivery[];
  failEgress(egressId: string, options?: FailOptions): EgressSnapshot;
  crashEgress(egressId: string): EgressSnapshot;
  reset(): void;
}

const failBodySchema = z
  .object({ error: z.string().min(1).optional(), errorCode: z.number().int().min(0).optional() })
  .strict();

function parseFailBody(input: unknown): FailOptions {
  const result = failBodySchema.safeParse(input);
  if (!result.success) {
    throw new AdminRequestError(400, `invalid body: ${result.error.issues.map((i) => i.message).join("; ")}`);
  }
  return result.data;
}

/**
 * The admin endpoint: JSON in, JSON out, no authentication (it is a test and sandbox tool).
 *   GET  /_admin/faults            current faults      PUT|PATCH|POST /_admin/faults  change some
 *   GET  /_admin/requests          every Twirp request received
 *   GET  /_admin/egresses[/{id}]   egresses with their hidden state (crashed, upload)
 *   POST /_admin/egresses/{id}/fail  {"error"?, "errorCode"?}    POST /_admin/egresses/{id}/crash
 *   GET  /_admin/webhooks          webhook deliveries  POST /_admin/reset  forget everything
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  api: EgressAdminApi,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://emulator").pathname.slice(ADMIN_PREFIX.length);
  const method = req.method ?? "GET";
  try {
    if (path === "/faults") {
      if (method === "GET") return sendJson(res, 200, api.faults());
      if (method === "PUT" || method === "PATCH" || method === "POST") {
        return sendJson(res, 200, api.setFaults(await readJsonBody(req, 64 * 1024)));
      }
    } else if (path === "/requests" && method === "GET") {
      return sendJson(res, 200, { requests: api.requests() });
    } else if (path === "/webhooks" && method === "GET") {
      return sendJson(res, 200, { deliveries: api.webhooks() });
    } else if (path === "/egresses" && method === "GET") {
      return sendJson(res, 200, { egresses: api.egresses() });
    } else if (path === "/reset" && method === "POST") {
      api.reset();
      return sendJson(res, 200, { reset: true });
    } else {
      const match = /^\/egresses\/([^/]+)(?:\/(fail|crash))?$/.exec(path);
      if (match) {
        const [, egressId = "", action] = match;
        if (action === undefined && method === "GET") {
          const snapshot = api.egress(egressId);
          if (!snapshot) throw new AdminRequestError(404, `no egress ${egressId}`);
          return sendJson(res, 200, snapshot);
        }
        if (action === "fail" && method === "POST") {
          return sendJson(
            res,
            200,
            api.failEgress(egressId, parseFailBody(await readJsonBody(req, 64 * 1024))),
          );
        }
        if (action === "crash" && method === "POST") return sendJson(res, 200, api.crashEgress(egressId));
      }
    }
    sendJson(res, 404, { error: `no admin route ${method} ${ADMIN_PREFIX}${path}` });
  } catch (error) {
    if (error instanceof AdminRequestError || error instanceof EgressAdminError) {
      return sendJson(res, error.status, { error: error.message });
    }
    if (error instanceof InvalidFaultsError) return sendJson(res, 400, { error: error.message });
    throw error;
  }
}
