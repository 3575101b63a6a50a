import { fileURLToPath } from "node:url";
import {
  runToExit,
  spawnTs,
  startAndTerminate,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const API_KEY = "lifecycle-key-0123456789";
const LIVEKIT = {
  LIVEKIT_API_KEY: "APIlifecycle",
  LIVEKIT_API_SECRET: "lifecycle-secret-0123456789",
  API_PUBLIC_URL: "https://recordings.test",
  // The watch page's storage: nothing listens there, and nothing here asks it anything.
  STORAGE_ENDPOINT: "127.0.0.1",
  STORAGE_PORT: "1",
  STORAGE_ACCESS_KEY: "lifecycle-reader",
  STORAGE_SECRET_KEY: "lifecycle-reader-secret",
};
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("api process", () => {
  it("starts, then shuts down cleanly on SIGTERM", async () => {
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix(),
      PORT: "0",
      API_KEYS: API_KEY,
      ...LIVEKIT,
    };
    const result = await startAndTerminate(entry, "api", env);
    expect(result.exitCode).toBe(0);
    expect(result.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it("serves a recording request, then exits 0 on SIGTERM without logging the key", async () => {
    const app = spawnTs(entry, [], {
      env: {
        REDIS_URL: redis.url,
        REDIS_PREFIX: uniquePrefix(),
        PORT: "0",
        API_HOST: "127.0.0.1",
        API_KEYS: `old-key-0123456789abcdef,${API_KEY}`,
        ...LIVEKIT,
      },
    });
    try {
      const listening = await app.waitForLine(/"msg":"api listening"/, 20_000);
      const port = (JSON.parse(listening) as { port: number }).port;
      const response = await fetch(`http://127.0.0.1:${port}/v1/recordings`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ room: "process-room" }),
      });
      expect(response.status).toBe(202);
      await app.waitForLine(/"msg":"request completed"/);
    } finally {
      expect(await app.stop("SIGTERM")).toBe(0);
    }
    expect(app.lines.join("\n")).not.toContain(API_KEY);
    expect(app.lines.join("\n")).not.toContain(LIVEKIT.LIVEKIT_API_SECRET);
  });

  it("exits 78 with one line naming the bad setting", async () => {
    const result = await runToExit(entry, { REDIS_URL: "nope", PORT: "0", API_KEYS: API_KEY, ...LIVEKIT });
    expect(result.exitCode).toBe(78);
    expect(result.lines).toEqual([
      "config: REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379",
    ]);
  });

  it("refuses to start without API keys (exit 78)", async () => {
    const result = await runToExit(entry, {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix(),
      PORT: "0",
      API_KEYS: "",
      ...LIVEKIT,
    });
    expect(result.exitCode).toBe(78);
    expect(result.lines).toEqual([
      "config: API_KEYS: must list at least one API key (comma-separated, each at least 16 characters), or TENANTS_FILE tenants with keys",
    ]);
  });

  it("refuses to start without the LiveKit credentials that verify webhooks", async () => {
    const result = await runToExit(entry, { REDIS_URL: redis.url, PORT: "0", API_KEYS: API_KEY });
    expect(result.exitCode).toBe(78);
    expect(result.lines.some((line) => line.startsWith("config: LIVEKIT_API_SECRET:"))).toBe(true);
  });
});
