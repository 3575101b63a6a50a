import { fileURLToPath } from "node:url";
import { appLifecycleSuite, runToExit } from "@recfleet/testing";
import { describe, expect, it } from "vitest";

const main = new URL("../src/main.ts", import.meta.url);
const env = { HEALTH_PORT: "0", STORAGE_ACCESS_KEY: "minio", STORAGE_SECRET_KEY: "minio-secret" };

appLifecycleSuite("storage-listener", main, env);

describe("storage-listener on a store without bucket events", () => {
  it("refuses to run with STORAGE_EVENTS=none (exit 78), saying why it is not needed", async () => {
    const result = await runToExit(fileURLToPath(main), {
      ...env,
      REDIS_URL: "redis://127.0.0.1:1",
      STORAGE_EVENTS: "none",
    });
    expect(result.exitCode).toBe(78);
    expect(result.lines).toContain(
      "config: STORAGE_EVENTS: is none: this store sends no bucket events, so the storage listener has nothing to do; do not run it (the recorder looks for files in the bucket)",
    );
  });
});
