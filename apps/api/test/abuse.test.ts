import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningProcess, spawnTs, startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, problemOf, startTestApi, TEST_PUBLIC_URL, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({
    redisUrl: redis.url,
    // Each test speaks from its own address (X-Forwarded-For from a trusted loopback proxy).
    trustProxy: "loopback",
    authFailureLimit: 3,
    dashboard: { user: "ops", password: "dashboard-pass", readOnly: false },
  });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("failed authentications", () => {
  it("are answered 429 with Retry-After past the limit, the right key included, per address", async () => {
    const from = { "x-forwarded-for": "203.0.113.7" };
    for (let i = 0; i < 3; i += 1) {
      const response = await api.call("/v1/recordings", {
        key: `guess-${i}-0123456789abcdef`,
        headers: from,
      });
      expect(response.status).toBe(401);
    }
    const fourth = await api.call("/v1/recordings", { key: "guess-4-0123456789abcdef", headers: from });
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await problemOf(fourth)).toMatchObject({
      type: "https://recfleet.dev/problems/too-many-failed-authentications",
    });
    // A guess that would be right is not even looked at while the address is blocked…
    expect((await api.call("/v1/recordings", { headers: from })).status).toBe(429);
    // …and another address is not held back.
    expect((await api.call("/v1/recordings", { headers: { "x-forwarded-for": "203.0.113.8" } })).status).toBe(
      200,
    );
  });

  it("on the dashboard are counted apart and throttled the same way", async () => {
    const from = { "x-forwarded-for": "198.51.100.9" };
    const board = (password: string) =>
      fetch(`${api.url}/admin/queues/api/queues`, {
        headers: { ...from, authorization: basic("ops", password) },
      });
    // A browser's first request, without credentials, is not a failure.
    for (let i = 0; i < 5; i += 1) {
      expect((await fetch(`${api.url}/admin/queues`, { headers: from })).status).toBe(401);
    }
    for (let i = 0; i < 3; i += 1) expect((await board(`wrong-${i}`)).status).toBe(401);
    const blocked = await board("wrong-again");
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await board("dashboard-pass")).status).toBe(429);
    // The API keys of that address are another count.
    expect((await api.call("/v1/recordings", { headers: from })).status).toBe(200);
  });
});

describe("the dashboard", () => {
  const auth = { authorization: basic("ops", "dashboard-pass"), "x-forwarded-for": "192.0.2.50" };
  it("refuses changes from another site, and takes them from its own pages", async () => {
    const pause = `${api.url}/admin/queues/api/queues/control/pause`;
    const crossSite = await fetch(pause, {
      method: "PUT",
      headers: { ...auth, origin: "https://evil.example", "content-type": "text/plain" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    expect(await api.queues.control.isPaused()).toBe(false);
    const fetchMarked = await fetch(pause, {
      method: "PUT",
      headers: { ...auth, "sec-fetch-site": "cross-site" },
    });
    expect(fetchMarked.status).toBe(403);
    const own = await fetch(pause, {
      method: "PUT",
      headers: { ...auth, origin: new URL(TEST_PUBLIC_URL).origin, "sec-fetch-site": "same-origin" },
    });
    expect(own.status).toBeLessThan(300);
    expect(await api.queues.control.isPaused()).toBe(true);
    await api.queues.control.resume();
  });

  it("cannot be framed", async () => {
    const page = await fetch(`${api.url}/admin/queues`, { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("answers", () => {
  it("carry security headers, no X-Powered-By and no ETag", async () => {
    const response = await api.call("/v1/profiles", { headers: { "x-forwarded-for": "192.0.2.60" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-powered-by")).toBeNull();
    expect(response.headers.get("etag")).toBeNull();
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("build links from API_PUBLIC_URL, never from the Host header", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      json: { room: "host-header" },
      headers: { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-for": "192.0.2.61" },
    });
    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toMatch(new RegExp(`^${TEST_PUBLIC_URL}/v1/recordings/`));
    expect(await response.text()).not.toContain("evil.example");
  });

  it("log no query string value (a key sent as ?access_token= included)", async () => {
    const secret = "query-secret-0123456789abcdef";
    await api.call(`/v1/recordings?access_token=${secret}&room=x`, {
      headers: { "x-forwarded-for": "192.0.2.62" },
    });
    await fetch(`${api.url}/nowhere?token=${secret}`);
    const logs = api.logs.join("\n");
    expect(logs).not.toContain(secret);
    expect(logs).toContain("access_token=[redacted]&room=[redacted]");
    // The caller is named by tenant and key id, never by key.
    const line = api.logs
      .map((entry) => JSON.parse(entry) as Record<string, unknown>)
      .find((entry) =>
        (entry.req as { url?: string } | undefined)?.url?.startsWith("/v1/recordings?access_token="),
      );
    expect(line).toMatchObject({ tenant: "default", apiKeyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});

describe("limits across API processes", () => {
  const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  let processes: RunningProcess[] = [];
  let ports: number[] = [];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "recfleet-limits-"));
    const tenantsFile = join(dir, "tenants.yaml");
    writeFileSync(
      tenantsFile,
      [
        "tenants:",
        "  acme:",
        "    keys: [acme-key-0123456789abcdef]",
        "    limits:",
        "      recordingsPerHour: 3",
        "",
      ].join("\n"),
    );
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix("limits"),
      PORT: "0",
      API_HOST: "127.0.0.1",
      API_KEYS: API_KEY,
      TENANTS_FILE: tenantsFile,
      API_AUTH_FAILURE_LIMIT: "4",
      API_PUBLIC_URL: TEST_PUBLIC_URL,
      LIVEKIT_API_KEY: "APIlimits",
      LIVEKIT_API_SECRET: "limits-secret-0123456789",
      STORAGE_ENDPOINT: "127.0.0.1",
      STORAGE_PORT: "1",
      STORAGE_ACCESS_KEY: "limits-reader",
      STORAGE_SECRET_KEY: "limits-reader-secret",
    };
    processes = [spawnTs(entry, [], { env }), spawnTs(entry, [], { env })];
    ports = await Promise.all(
      processes.map(async (app) => {
        const line = await app.waitForLine(/"msg":"api listening"/, 20_000);
        return (JSON.parse(line) as { port: number }).port;
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(processes.map((app) => app.stop("SIGTERM")));
  });

  const call = (index: number, key: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${ports[index % 2]}/v1/recordings`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    });

  // In this order: the second blocks the address both tests speak from.
  it("hold a tenant's recordings per hour whichever process takes them", async () => {
    const key = "acme-key-0123456789abcdef";
    const create = (index: number, room: string) =>
      call(index, key, { method: "POST", body: JSON.stringify({ room }) });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await create(i, `hourly-${i}`)).status);
    expect(statuses).toEqual([202, 202, 202]);
    for (const index of [0, 1]) {
      const refused = await create(index, `hourly-over-${index}`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await problemOf(refused)).toMatchObject({ limit: { name: "recordingsPerHour", value: 3 } });
    }
    // Another tenant has its own count.
    expect(
      (await call(0, API_KEY, { method: "POST", body: JSON.stringify({ room: "other-tenant" }) })).status,
    ).toBe(202);
  });

  it("hold failed authentications per address whichever process counts them", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await call(i, `wrong-key-${i}-0123456789abc`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    for (const index of [0, 1]) {
      const response = await call(index, API_KEY);
      expect(response.status).toBe(429);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });
});
