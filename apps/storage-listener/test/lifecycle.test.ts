import { fileURLToPath } from "node:url";
import { runToExit, startAndTerminate, startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe("storage-listener process", () => {
  it("starts, then shuts down cleanly on SIGTERM", async () => {
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniquePrefix(),
      HEALTH_PORT: "0",
      STORAGE_ACCESS_KEY: "minio",
      STORAGE_SECRET_KEY: "minio-secret",
    };
    const result = await startAndTerminate(entry, "storage-listener", env);
    expect(result.exitCode).toBe(0);
    expect(result.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it("exits 78 with one line naming the bad setting", async () => {
    const result = await runToExit(entry, {
      REDIS_URL: "nope",
      HEALTH_PORT: "0",
      STORAGE_ACCESS_KEY: "minio",
      STORAGE_SECRET_KEY: "minio-secret",
    });
    expect(result.exitCode).toBe(78);
    expect(result.lines).toEqual([
      "config: REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379",
    ]);
  });
});
