import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Logger, TimeoutError } from "@recfleet/runtime";
import { z } from "zod";
import { BodyTooLargeError, readBody, sendJson } from "../common/http.ts";
import type { FaultCounters } from "./faults.ts";
import { renderListingPage, renderMessagePage } from "./listing-page.ts";
import { InvalidFilterError, isMessageId, type MessageFilter, type MessageStore } from "./message-store.ts";
import { parseMessage } from "./message-summary.ts";
import { InvalidPatternError } from "./recipient-pattern.ts";

export interface FaultState {
  failNext: number;
  rejectRecipients: string[];
  /** ISO time when a connection refusal ends, or null. */
  refusingConnectionsUntil: string | null;
  triggered: FaultCounters;
}

/** The fault knobs the admin endpoint turns; the emulator implements them. */
export interface FaultControl {
  state(): FaultState;
  failNext(count: number): void;
  rejectRecipients(patterns: readonly string[]): void;
  refuseConnectionsFor(ms: number): void;
  reset(): Promise<void>;
}

export interface HttpApiOptions {
  store: MessageStore;
  faults: FaultControl;
  smtpUrl: string;
  logger: Logger;
}

const MAX_WAIT_MS = 60_000;
const MAX_ADMIN_BODY = 64 * 1024;

const faultsRequestSchema = z.strictObject({
  failNext: z.number().int().min(0).max(1_000_000).optional(),
  rejectRecipients: z.array(z.string()).max(100).optional(),
  refuseConnectionsMs: z.number().int().min(1).max(3_600_000).optional(),
});

class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, status, { error: message, ...extra });
}

function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(body);
}

function wholeNumber(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new BadRequestError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

function filterFrom(params: URLSearchParams): MessageFilter {
  const filter: MessageFilter = {};
  const to = params.get("to");
  const since = params.get("since");
  if (to !== null) filter.to = to;
  if (since !== null) filter.since = since;
  return filter;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_ADMIN_BODY);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequestError("the body is not valid JSON");
  }
}

/** The read-only listing, the JSON API and the admin endpoints, on one HTTP server. */
export function createHttpApi(options: HttpApiOptions): Server {
  const { store, faults, logger } = options;

  const listMessages = async (res: ServerResponse, params: URLSearchParams) => {
    const filter = filterFrom(params);
    const min = wholeNumber(params, "min", 1, 100_000);
    const waitMs = wholeNumber(params, "waitMs", 0, MAX_WAIT_MS) ?? 0;
    let messages = store.list(filter);
    let timedOut = false;
    if (min !== undefined && messages.length < min) {
      const abort = new AbortController();
      const onClose = () => abort.abort(new Error("client went away"));
      res.once("close", onClose);
      try {
        messages = await store.waitFor(min, Math.max(waitMs, 1), filter, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) return;
        if (!(error instanceof TimeoutError)) throw error;
        messages = store.list(filter);
        timedOut = true;
      } finally {
        res.off("close", onClose);
      }
    }
    sendJson(res, 200, { count: messages.length, timedOut, messages });
  };

  const messageDetail = async (res: ServerResponse, id: string) => {
    const entry = store.get(id);
    const raw = await store.raw(id);
    if (!entry || !raw) return sendError(res, 404, `no message ${id}`);
    const email = await parseMessage(raw).catch(() => undefined);
    sendJson(res, 200, {
      ...entry,
      text: email?.text ?? null,
      html: email?.html ?? null,
      headers: email?.headers.map((header) => ({ key: header.originalKey, value: header.value })) ?? [],
      attachmentList:
        email?.attachments.map((attachment) => ({
          filename: attachment.filename,
          mimeType: attachment.mimeType,
          contentId: attachment.contentId ?? null,
        })) ?? [],
    });
  };

  const messageBody = async (res: ServerResponse, id: string, part: "text" | "html") => {
    const raw = await store.raw(id);
    if (!raw) return sendError(res, 404, `no message ${id}`);
    const email = await parseMessage(raw);
    const body = email[part];
    if (typeof body !== "string") return sendError(res, 404, `message ${id} has no ${part} part`);
    if (part === "text") return sendText(res, 200, "text/plain; charset=utf-8", body);
    // The HTML is whatever the sender wrote: sandboxed, no scripts, no network.
    sendText(res, 200, "text/html; charset=utf-8", body, {
      "content-security-policy": "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'",
    });
  };

  const messagePage = async (res: ServerResponse, id: string) => {
    const entry = store.get(id);
    const raw = await store.raw(id);
    if (!entry || !raw) return sendError(res, 404, `no message ${id}`);
    const email = await parseMessage(raw).catch(() => undefined);
    sendText(res, 200, "text/html; charset=utf-8", renderMessagePage(entry, email?.text ?? null), {
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'",
    });
  };

  const updateFaults = async (req: IncomingMessage, res: ServerResponse) => {
    const parsed = faultsRequestSchema.safeParse(await readJson(req));
    if (!parsed.success) throw new BadRequestError(z.prettifyError(parsed.error));
    const change = parsed.data;
    // Patterns first: an invalid one is refused before any other knob has moved.
    if (change.rejectRecipients !== undefined) faults.rejectRecipients(change.rejectRecipients);
    if (change.failNext !== undefined) faults.failNext(change.failNext);
    if (change.refuseConnectionsMs !== undefined) faults.refuseConnectionsFor(change.refuseConnectionsMs);
    logger.info({ change }, "faults changed");
    sendJson(res, 200, faults.state());
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const allow = (methods: string[]) => {
      if (methods.includes(method)) return true;
      sendError(res, 405, `${method} is not allowed on ${path}`, { allow: methods });
      return false;
    };

    if (path === "/") {
      if (!allow(["GET"])) return;
      return sendText(
        res,
        200,
        "text/html; charset=utf-8",
        renderListingPage(store.list(), options.smtpUrl),
        {
          "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
      );
    }
    if (path === "/messages/clear") {
      if (!allow(["POST"])) return;
      // The page's own button only: a form posted from another site carries that site's Origin.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) {
        return sendError(res, 403, "the inbox is cleared from this page only");
      }
      const deleted = await store.clear();
      logger.info({ deleted }, "message store cleared from the page");
      res.writeHead(303, { location: "/", "content-length": 0 });
      return res.end();
    }
    if (path === "/healthz") {
      if (!allow(["GET"])) return;
      return sendJson(res, 200, { status: "ok" });
    }
    if (path === "/api/messages") {
      if (!allow(["GET", "DELETE"])) return;
      if (method === "DELETE") {
        const deleted = await store.clear();
        logger.info({ deleted }, "message store cleared");
        return sendJson(res, 200, { deleted });
      }
      return listMessages(res, url.searchParams);
    }
    if (path === "/_admin/faults") {
      if (!allow(["GET", "POST", "DELETE"])) return;
      if (method === "POST") return updateFaults(req, res);
      if (method === "DELETE") {
        await faults.reset();
        logger.info("faults reset");
      }
      return sendJson(res, 200, faults.state());
    }

    const api = /^\/api\/messages\/([^/]+)$/.exec(path);
    const raw = /^\/messages\/([^/]+)\.eml$/.exec(path);
    const part = /^\/messages\/([^/]+)\/(text|html)$/.exec(path);
    const page = /^\/messages\/([^/.]+)$/.exec(path);
    const encodedId = api?.[1] ?? raw?.[1] ?? part?.[1] ?? page?.[1];
    if (encodedId === undefined) return sendError(res, 404, `no route for ${method} ${path}`);
    // Ids are plain [0-9a-z-]; anything that needs decoding is not one.
    const id = encodedId;
    if (!allow(["GET"])) return;
    if (!isMessageId(id)) return sendError(res, 404, `no message ${id}`);
    if (api) return messageDetail(res, id);
    if (page) return messagePage(res, id);
    if (raw) {
      const bytes = await store.raw(id);
      if (!bytes) return sendError(res, 404, `no message ${id}`);
      return sendText(res, 200, "message/rfc822", bytes, {
        "content-disposition": `inline; filename="${id}.eml"`,
      });
    }
    return messageBody(res, id, part?.[2] === "html" ? "html" : "text");
  };

  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof BadRequestError || error instanceof InvalidFilterError) {
        return sendError(res, 400, error.message);
      }
      if (error instanceof InvalidPatternError || error instanceof RangeError) {
        return sendError(res, 400, error.message);
      }
      if (error instanceof BodyTooLargeError) return sendError(res, 413, error.message);
      logger.error({ err: error, method: req.method, url: req.url }, "http request failed");
      sendError(res, 500, "internal error");
    });
  });
}
