import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AdminRequestError, parseAdminBody, readJsonBody } from "../common/admin.ts";
import { sendJson } from "../common/http.ts";
import { InvalidFaultsError, type S3Faults } from "./faults.ts";
import type { CutMode, ListenerInfo } from "./listeners.ts";
import type { RequestLogEntry } from "./request-log.ts";

/** No bucket can be named `_admin` (underscore), so this path never shadows S3. */
export const ADMIN_PREFIX = "/_admin";

/** What the admin endpoint exposes; the programmatic handle offers the same operations. */
export interface S3AdminApi {
  faults(): S3Faults;
  setFaults(patch: unknown): S3Faults;
  resetFaults(): S3Faults;
  cutListeners(mode?: CutMode): number;
  injectGarbage(line?: string): number;
  listeners(): ListenerInfo[];
  requests(afterSeq?: number): RequestLogEntry[];
  clearRequests(): void;
}

const cutSchema = z.object({ mode: z.enum(["reset", "end"]).optional() }).strict();
const garbageSchema = z
  .object({
    line: z
      .string()
      .min(1)
      .max(64 * 1024)
      .optional(),
  })
  .strict();

/**
 * The admin endpoint: JSON in, JSON out, no SigV4 (a test and sandbox tool).
 *   GET /_admin/faults                 current faults
 *   PUT|PATCH|POST /_admin/faults      {"dropEvents"?, "failForMs"?, "failCode"?}   DELETE: reset
 *   GET /_admin/listeners              connected listen streams
 *   POST /_admin/listeners/cut         {"mode"?: "reset"|"end"}  → {"cut": n}
 *   POST /_admin/listeners/garbage     {"line"?}                 → {"written": n}
 *   GET /_admin/requests[?after=seq]   S3 requests received      DELETE: forget them
 */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, api: S3AdminApi): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const path = url.pathname.slice(ADMIN_PREFIX.length);
  const method = req.method ?? "GET";
  try {
    switch (path) {
      case "/faults":
        if (method === "GET") return sendJson(res, 200, api.faults());
        if (method === "PUT" || method === "PATCH" || method === "POST") {
          return sendJson(res, 200, api.setFaults(await readJsonBody(req, 128 * 1024)));
        }
        if (method === "DELETE") return sendJson(res, 200, api.resetFaults());
        break;
      case "/listeners":
        if (method === "GET") return sendJson(res, 200, { listeners: api.listeners() });
        break;
      case "/listeners/cut":
        if (method === "POST") {
          const { mode } = parseAdminBody(cutSchema, await readJsonBody(req, 128 * 1024));
          return sendJson(res, 200, { cut: api.cutListeners(mode) });
        }
        break;
      case "/listeners/garbage":
        if (method === "POST") {
          const { line } = parseAdminBody(garbageSchema, await readJsonBody(req, 128 * 1024));
          return sendJson(res, 200, { written: api.injectGarbage(line) });
        }
        break;
      case "/requests": {
        if (method === "GET") {
          const after = url.searchParams.get("after") ?? "0";
          if (!/^\d+$/.test(after))
            throw new AdminRequestError(400, "after must be a request sequence number");
          return sendJson(res, 200, { requests: api.requests(Number(after)) });
        }
        if (method === "DELETE") {
          api.clearRequests();
          res.writeHead(204).end();
          return;
        }
        break;
      }
      default:
        return sendJson(res, 404, { error: `no admin resource ${url.pathname}` });
    }
    sendJson(res, 405, { error: `${method} is not allowed on ${url.pathname}` });
  } catch (error) {
    if (error instanceof AdminRequestError) return sendJson(res, error.status, { error: error.message });
    if (error instanceof InvalidFaultsError) return sendJson(res, 400, { error: error.message });
    sendJson(res, 500, { error: (error as Error).message });
  }
}
