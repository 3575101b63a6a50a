import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { freePort, spawnProcess, startRedis } from "../src/index.ts";

describe("startRedis", () => {
  it("gives a private server that can crash and come back with its append-only data", async () => {
    const redis = await startRedis({ appendOnly: true });
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    client.on("error", () => {});
    await client.set("k", "v");
    if (redis.owned) {
      await redis.kill();
      const probe = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null });
      probe.on("error", () => {});
      await expect(probe.connect()).rejects.toThrow();
      await redis.start();
      expect(await client.get("k")).toBe("v");
    }
    client.disconnect();
    await redis.stop();
  });
});

describe("spawnProcess", () => {
  it("collects lines and reports the exit code", async () => {
    const child = spawnProcess(process.execPath, [
      "-e",
      "console.log('ready'); setTimeout(() => process.exit(3), 50)",
    ]);
    expect(await child.waitForLine(/ready/)).toBe("ready");
    expect(await child.exited).toBe(3);
  });

  it("fails a wait when the process exits first", async () => {
    const child = spawnProcess(process.execPath, ["-e", "console.log('bye')"]);
    await expect(child.waitForLine(/never/)).rejects.toThrow(/process exited \(0\)/);
  });

  it("finds free ports", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
  });
});
