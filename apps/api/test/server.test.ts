import { Agent, request } from "node:http";
import { createLogger } from "@recfleet/runtime";
import express from "express";
import { describe, expect, it } from "vitest";
import { listen } from "../src/http/server.ts";

const logger = createLogger("test", { level: "silent" });

function slowApp(delayMs: number) {
  const app = express();
  app.get("/slow", (_req, res) => {
    setTimeout(() => res.json({ done: true }), delayMs);
  });
  app.get("/fast", (_req, res) => {
    res.json({ done: true });
  });
  return app;
}

/** A GET on a keep-alive connection; resolves with status, the Connection header and the body. */
function get(port: number, path: string, agent: Agent) {
  return new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("graceful HTTP shutdown", () => {
  it("finishes in-flight requests, closes keep-alive connections and refuses new ones", async () => {
    const server = await listen(slowApp(300), { host: "127.0.0.1", port: 0 }, logger);
    const agent = new Agent({ keepAlive: true });
    try {
      // An idle keep-alive connection, and a request still running when the shutdown begins.
      expect((await get(server.port, "/fast", agent)).status).toBe(200);
      const inFlight = get(server.port, "/slow", agent);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      const closed = server.close(5000);
      const response = await inFlight;
      expect(response).toMatchObject({ status: 200, connection: "close", body: '{"done":true}' });
      await closed;
      // Closed as soon as the last request finished, long before the grace period.
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(get(server.port, "/fast", new Agent())).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      agent.destroy();
    }
  });

  it("cuts requests still running when the grace period is over", async () => {
    const server = await listen(slowApp(10_000), { host: "127.0.0.1", port: 0 }, logger);
    const agent = new Agent({ keepAlive: true });
    const hanging = get(server.port, "/slow", agent);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await server.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(hanging).rejects.toThrow(/socket hang up|ECONNRESET/);
    agent.destroy();
  });
});
