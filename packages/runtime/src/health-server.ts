import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.ts";
import { withTimeout } from "./timeout.ts";

export type ReadinessCheck = () => Promise<unknown>;

export interface HealthServerOptions {
  host: string;
  port: number;
  logger: Logger;
  registry: Registry;
  /** Each must resolve for /readyz to answer 200; each gets `checkTimeoutMs`. */
  checks: Record<string, ReadinessCheck>;
  /** App-specific facts added to /healthz (e.g. the listener's connection state). */
  status?: () => Record<string, unknown>;
  checkTimeoutMs?: number;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface ReadinessResult {
  ok: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/** Runs every readiness check at once, each bounded by `timeoutMs`. */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs: number,
): Promise<ReadinessResult> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs, name);
        return [name, { ok: true }] as const;
      } catch (error) {
        return [name, { ok: false, error: (error as Error).message }] as const;
      }
    }),
  );
  return { ok: results.every(([, result]) => result.ok), checks: Object.fromEntries(results) };
}

/**
 * The small HTTP endpoint every worker exposes: GET /healthz (the process is up), GET /readyz
 * (its dependencies answer) and GET /metrics (Prometheus).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(405, JSON.stringify({ error: "method not allowed" }));
    if (path === "/healthz") {
      return send(
        200,
        JSON.stringify({ status: "ok", uptimeS: Math.round(process.uptime()), ...options.status?.() }),
      );
    }
    if (path === "/readyz") {
      void runChecks(options.checks, timeoutMs).then((result) =>
        send(result.ok ? 200 : 503, JSON.stringify({ status: result.ok ? "ready" : "not ready", ...result })),
      );
      return;
    }
    if (path === "/metrics") {
      void options.registry
        .metrics()
        .then((text) => send(200, text, options.registry.contentType))
        .catch((error: unknown) => send(500, JSON.stringify({ error: (error as Error).message })));
      return;
    }
    send(404, JSON.stringify({ error: "not found" }));
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port, host: options.host }, "health endpoint listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
