import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@recfleet/runtime";
import type { Express } from "express";

export interface HttpServer {
  readonly port: number;
  /**
   * Graceful stop: refuse new connections, close idle keep-alive connections, let in-flight
   * requests finish (their connections close after the response), and cut whatever is still
   * open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

export async function listen(
  app: Express,
  options: { host: string; port: number },
  logger: Logger,
): Promise<HttpServer> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const server = createServer((req, res) => {
    inFlight.add(res);
    if (closing) res.setHeader("Connection", "close");
    res.once("close", () => {
      inFlight.delete(res);
      if (closing) server.closeIdleConnections();
    });
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host: options.host }, "api listening");
  return {
    port,
    close: async (graceMs) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
      server.closeIdleConnections();
      const force = setTimeout(() => {
        logger.warn({ inFlight: inFlight.size, graceMs }, "shutdown grace over: closing open connections");
        server.closeAllConnections();
      }, graceMs);
      force.unref();
      await closed;
      clearTimeout(force);
    },
  };
}
