import { startRedis, type TestRedis } from "@recfleet/testing";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, problemOf, ROTATED_KEY, sample, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({ redisUrl: redis.url, dashboard: { user: "ops", password: "dashboard-pass" } });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("authentication", () => {
  it("answers 401 with a Bearer challenge without a key or with a wrong one", async () => {
    for (const authorization of [undefined, "Bearer wrong-key-0123456789abc", `Basic ${API_KEY}`, "Bearer"]) {
      const response = await fetch(`${api.url}/v1/recordings`, {
        headers: authorization ? { authorization } : {},
      });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="recfleet"/);
      expect(await problemOf(response)).toMatchObject({
        type: "https://recfleet.dev/problems/unauthorized",
        status: 401,
      });
    }
  });

  it("accepts every configured key, so keys can be rotated", async () => {
    for (const key of [API_KEY, ROTATED_KEY]) {
      const response = await fetch(`${api.url}/v1/profiles`, { headers: { authorization: `Bearer ${key}` } });
      expect(response.status).toBe(200);
    }
  });

  it("refuses every /v1 request when no API key is configured", async () => {
    const locked = await startTestApi({ redisUrl: redis.url, apiKeys: [] });
    try {
      const response = await locked.call("/v1/profiles");
      expect(response.status).toBe(401);
      expect(locked.logs.some((line) => line.includes("API_KEYS is empty"))).toBe(true);
    } finally {
      await locked.close();
    }
  });

  it("never writes an API key or a password into the logs", async () => {
    await api.call("/v1/recordings", { method: "POST", json: { room: "log-room" } });
    await fetch(`${api.url}/v1/profiles`, { headers: { authorization: "Bearer leaked-wrong-key-123456" } });
    await fetch(`${api.url}/admin/queues`, { headers: { authorization: basic("ops", "dashboard-pass") } });
    const text = api.logs.join("\n");
    const requestLines = api.logs.filter((line) => line.includes('"msg":"request completed"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(3);
    expect(requestLines.some((line) => line.includes('"authorization":"[redacted]"'))).toBe(true);
    for (const secret of [
      API_KEY,
      "leaked-wrong-key-123456",
      "dashboard-pass",
      basic("ops", "dashboard-pass"),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("request ids", () => {
  it("echoes a sane X-Request-Id and logs it, and replaces an unusable one", async () => {
    const echoed = await api.call("/v1/profiles", { headers: { "x-request-id": "trace-123.abc" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-123.abc");
    expect(api.logs.some((line) => line.includes('"id":"trace-123.abc"'))).toBe(true);
    const replaced = await api.call("/v1/profiles", { headers: { "x-request-id": "bad id with spaces" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("routing", () => {
  it("answers an unknown route with a 404 problem", async () => {
    for (const path of ["/nowhere", "/v1/nowhere"]) {
      const response = await api.call(path);
      expect(response.status).toBe(404);
      expect(await problemOf(response)).toMatchObject({ type: "https://recfleet.dev/problems/not-found" });
    }
  });

  it("answers a wrong method with a 405 problem and Allow", async () => {
    const cases: [string, string, string][] = [
      ["DELETE", "/v1/recordings", "GET, POST, HEAD"],
      ["PUT", "/v1/recordings/0190f3e5-7b5e-7cc3-9a7e-1f2b3c4d5e6f", "GET, PATCH, DELETE, HEAD"],
      ["GET", "/v1/recordings/0190f3e5-7b5e-7cc3-9a7e-1f2b3c4d5e6f/stop", "POST"],
      ["GET", "/v1/webhooks/livekit", "POST"],
      ["POST", "/healthz", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await api.call(path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow")).toBe(allow);
      expect(await problemOf(response)).toMatchObject({
        type: "https://recfleet.dev/problems/method-not-allowed",
      });
    }
  });
});

describe("GET /v1/profiles", () => {
  it("lists every profile with its settings, type, default flag and size estimates", async () => {
    const response = await api.call("/v1/profiles");
    const body = (await response.json()) as {
      default: string;
      items: {
        name: string;
        type: string;
        default: boolean;
        preset: string | null;
        settings: Record<string, number | null>;
        estimatedMBPer30Min: { video: number; audio: number };
      }[];
    };
    expect(body.default).toBe("low-cpu");
    expect(body.items.map((item) => item.name)).toEqual([
      "default",
      "balanced",
      "low-cpu",
      "slide-heavy",
      "minimum-cpu",
      "audio-heavy",
    ]);
    const lowCpu = body.items.find((item) => item.name === "low-cpu");
    // (600 + 64) kbps × 1800 s ÷ 8 ÷ 1000 = 149.4 MB; audio 64 kbps → 14.4 MB.
    expect(lowCpu).toMatchObject({
      type: "advanced",
      default: true,
      preset: null,
      settings: { width: 1280, height: 720, framerate: 15, videoBitrate: 600, audioBitrate: 64 },
      estimatedMBPer30Min: { video: 149.4, audio: 14.4 },
    });
    const preset = body.items.find((item) => item.name === "default");
    expect(preset).toMatchObject({
      type: "preset",
      default: false,
      preset: "H264_720P_30",
      settings: { width: 1280, height: 720, videoBitrate: 3000, keyFrameInterval: null },
    });
    expect(body.items.filter((item) => item.default)).toHaveLength(1);
  });
});

describe("health", () => {
  it("answers /healthz and /readyz without authentication", async () => {
    const health = await fetch(`${api.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { redis: { ok: true }, "redis-producer": { ok: true } },
    });
  });
});

describe("GET /metrics", () => {
  it("exposes the request histogram, job counts and recordings by status", async () => {
    await api.call("/v1/recordings", { method: "POST", json: { room: "metrics-room" } });
    await api.call("/v1/recordings/not-an-id");
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(
      sample(text, "recfleet_http_request_duration_seconds_count", {
        method: "POST",
        route: "/v1/recordings",
        status: "202",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, "recfleet_http_request_duration_seconds_bucket", {
        le: "+Inf",
        route: "/v1/recordings/:id",
        status: "404",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, "recfleet_recordings", { status: "queued" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "recfleet_recordings", { status: "notified" })).toBe(0);
    expect(
      sample(text, "recfleet_queue_jobs", { queue: "control", state: "waiting" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, "recfleet_queue_jobs", { queue: "notifications", state: "failed" })).toBe(0);
    expect(sample(text, "recfleet_metrics_source_up", { source: "queues" })).toBe(1);
    expect(sample(text, "recfleet_metrics_source_up", { source: "recordings" })).toBe(1);
    expect(text).toContain("process_cpu_user_seconds_total");
  });
});

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document generated from the validation schemas", async () => {
    const response = await fetch(`${api.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown> & {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
    };
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        "/v1/recordings",
        "/v1/recordings/{id}",
        "/v1/recordings/{id}/stop",
        "/v1/profiles",
        "/v1/webhooks/livekit",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/admin/queues",
      ]),
    );
    const create = document.paths["/v1/recordings"]?.post;
    expect(Object.keys(create?.responses ?? {})).toEqual(
      expect.arrayContaining(["202", "400", "401", "409", "413", "415", "422", "503"]),
    );
    expect(create?.responses["409"]).toMatchObject({
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    });
    const request = document.components.schemas.CreateRecordingRequest;
    expect(request).toMatchObject({ additionalProperties: false, required: ["room"] });
    expect(request?.properties?.kind).toMatchObject({ enum: ["video", "audio"], default: "video" });
    expect(request?.properties?.room).toMatchObject({ minLength: 1, maxLength: 256 });
    expect(document.components.schemas.Recording?.properties?.status).toMatchObject({
      enum: expect.arrayContaining(["queued", "cancelled", "notified"]),
    });
    expect(document).toMatchObject({ components: { securitySchemes: { bearerAuth: { scheme: "bearer" } } } });
  });
});

describe("queue dashboard", () => {
  it("asks for basic auth, and serves the board with the right credentials", async () => {
    const anonymous = await fetch(`${api.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    const wrong = await fetch(`${api.url}/admin/queues`, {
      headers: { authorization: basic("ops", "nope") },
    });
    expect(wrong.status).toBe(401);
    const page = await fetch(`${api.url}/admin/queues`, {
      headers: { authorization: basic("ops", "dashboard-pass") },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const queues = await fetch(`${api.url}/admin/queues/api/queues`, {
      headers: { authorization: basic("ops", "dashboard-pass") },
    });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(["control", "notifications"]);
    // Read-only unless DASHBOARD_READ_ONLY=false.
    expect(body.queues.every((queue) => queue.readOnlyMode === true)).toBe(true);
  });

  it("lets dashboard users change jobs only when enabled", async () => {
    const writable = await startTestApi({
      redisUrl: redis.url,
      dashboard: { user: "ops", password: "dashboard-pass", readOnly: false },
    });
    try {
      const response = await fetch(`${writable.url}/admin/queues/api/queues`, {
        headers: { authorization: basic("ops", "dashboard-pass") },
      });
      const body = (await response.json()) as { queues: { readOnlyMode: boolean }[] };
      expect(body.queues.every((queue) => queue.readOnlyMode === false)).toBe(true);
    } finally {
      await writable.close();
    }
  });

  it("does not exist without dashboard credentials", async () => {
    const plain = await startTestApi({ redisUrl: redis.url });
    try {
      const response = await fetch(`${plain.url}/admin/queues`, {
        headers: { authorization: basic("ops", "dashboard-pass") },
      });
      expect(response.status).toBe(404);
      await problemOf(response);
    } finally {
      await plain.close();
    }
  });
});

describe("hostile input found by the fault-injection suite", () => {
  const auth = { authorization: `Bearer ${API_KEY}` };

  it("answers a path that is not valid percent-encoding 404, not 500", async () => {
    for (const path of [
      "/v1/recordings/%zz",
      "/v1/recordings/%E0%A4%A",
      "/v1/recordings/%C0%AE%C0%AE/stop",
    ]) {
      const response = await fetch(`${api.url}${path}`, {
        method: path.endsWith("stop") ? "POST" : "GET",
        headers: auth,
      });
      expect(response.status, path).toBe(404);
      expect((await problemOf(response)).type).toBe("https://recfleet.dev/problems/not-found");
    }
  });

  it("answers a body whose Content-Encoding is a lie 415, not 500", async () => {
    for (const encoding of ["gzip", "deflate", "br"]) {
      const response = await fetch(`${api.url}/v1/recordings`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", "content-encoding": encoding },
        body: JSON.stringify({ room: "encoded" }),
      });
      expect(response.status, encoding).toBe(415);
    }
  });

  it("refuses metadata nested thousands deep with 400, not a stack overflow", async () => {
    const deep = `${"[".repeat(6000)}${"]".repeat(6000)}`;
    const response = await fetch(`${api.url}/v1/recordings`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: `{"room":"deep-room","metadata":{"deep":${deep}}}`,
    });
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(JSON.stringify(problem)).toMatch(/must not nest deeper than 32 levels/);
    expect((await api.call("/v1/profiles")).status).toBe(200);
  });
});
