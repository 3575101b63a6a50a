import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  createLogger,
  createMetricsRegistry,
  Lifecycle,
  startHealthServer,
  withTimeout,
} from "../src/index.ts";

const silent = createLogger("test", { level: "silent" });

describe("backoffDelay", () => {
  const policy = { initialMs: 1000, maxMs: 30_000, jitter: 0.5 };
  it("doubles per attempt up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, { ...policy, jitter: 0 }))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });
  it("spreads retries within the jitter band", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    expect(backoffDelay(3, policy, () => 1)).toBe(4000);
    expect(backoffDelay(20, policy, () => 0.5)).toBe(22500);
  });
});

describe("Lifecycle", () => {
  it("closes in reverse order of opening, once, even when a step fails", async () => {
    const lifecycle = new Lifecycle(silent);
    const order: string[] = [];
    lifecycle.add("redis", () => order.push("redis"));
    lifecycle.add("worker", async () => {
      order.push("worker");
      throw new Error("boom");
    });
    lifecycle.add("http", () => order.push("http"));
    await Promise.all([lifecycle.shutdown("test"), lifecycle.shutdown("again")]);
    expect(order).toEqual(["http", "worker", "redis"]);
  });

  it("gives up on a step that hangs", async () => {
    const lifecycle = new Lifecycle(silent);
    const order: string[] = [];
    lifecycle.add("first", () => order.push("first"));
    lifecycle.add("hangs", () => new Promise(() => {}));
    await lifecycle.shutdown("test", 50);
    expect(order).toEqual(["first"]);
  });
});

describe("withTimeout", () => {
  it("rejects with the operation's name", async () => {
    await expect(withTimeout(new Promise(() => {}), 20, "egress start")).rejects.toThrow(
      "egress start timed out after 20 ms",
    );
    await expect(withTimeout(Promise.resolve(7), 20, "x")).resolves.toBe(7);
  });
});

describe("health server", () => {
  it("answers liveness, readiness from its checks, and metrics", async () => {
    let redisUp = true;
    const registry = createMetricsRegistry("test-app");
    const server = await startHealthServer({
      host: "127.0.0.1",
      port: 0,
      logger: silent,
      registry,
      checks: { redis: async () => (redisUp ? "PONG" : Promise.reject(new Error("connection refused"))) },
      status: () => ({ connected: true }),
    });
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", connected: true });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    redisUp = false;
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      checks: { redis: { ok: false, error: "connection refused" } },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('process_resident_memory_bytes{app="test-app"}');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    await server.close();
  });
});

describe("logger", () => {
  it("never writes credentials", () => {
    const lines: string[] = [];
    const logger = createLogger("test", { destination: { write: (line: string) => lines.push(line) } });
    logger.info(
      { req: { headers: { authorization: "Bearer sk-live" } }, livekit: { apiSecret: "xyz-secret" } },
      "hi",
    );
    expect(lines.join("")).not.toMatch(/sk-live|xyz-secret/);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      component: "test",
      msg: "hi",
      livekit: { apiSecret: "[redacted]" },
    });
  });
});
