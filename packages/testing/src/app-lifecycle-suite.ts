import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runToExit, startAndTerminate } from "./app-lifecycle.ts";
import { startRedis, type TestRedis, uniquePrefix } from "./redis.ts";

/**
 * The tests every app's main.ts must pass: it starts against a real Redis and shuts down cleanly
 * on SIGTERM, and a bad setting stops it with exit code 78 and one line naming the variable.
 * `env` holds the app's other required settings.
 */
export function appLifecycleSuite(name: string, mainUrl: URL, env: Record<string, string>): void {
  const entry = fileURLToPath(mainUrl);
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  describe(`${name} process`, () => {
    it("starts, then shuts down cleanly on SIGTERM", async () => {
      const result = await startAndTerminate(entry, name, {
        ...env,
        REDIS_URL: redis.url,
        REDIS_PREFIX: uniquePrefix(),
      });
      expect(result.exitCode).toBe(0);
      expect(result.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
    });

    it("answers --help with the settings it reads, without connecting to anything, and refuses other arguments", async () => {
      // No Redis given: --help must not need one.
      const help = await runToExit(entry, { REDIS_URL: undefined }, ["--help"]);
      expect(help.exitCode).toBe(0);
      expect(help.lines[0]).toBe(
        `recfleet ${name}: configured by environment variables only (docs/configuration.md has them all).`,
      );
      expect(help.lines).toContain("  REDIS_URL, or REDIS_URL_FILE naming a file that holds it");
      expect(help.lines.some((line) => line.startsWith("  LOG_LEVEL (default "))).toBe(true);
      const unknown = await runToExit(entry, { REDIS_URL: undefined }, ["--port=1"]);
      expect(unknown.exitCode).toBe(2);
      expect(unknown.lines.join("\n")).toContain(`recfleet ${name}: takes no arguments (got "--port=1")`);
    });

    it("exits 78 with one line naming the bad setting", async () => {
      const result = await runToExit(entry, { ...env, REDIS_URL: "nope" });
      expect(result.exitCode).toBe(78);
      expect(result.lines).toEqual([
        "config: REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379",
      ]);
    });
  });
}
