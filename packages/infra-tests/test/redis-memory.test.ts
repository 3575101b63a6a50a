// The measuring script behind docs/operations.md's Redis sizing, run small against a real Redis.
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureRedisMemory } from "../scripts/redis-memory.ts";

describe("measureRedisMemory", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("drives every recording to notified, keeps its three jobs, and accounts for the memory", async () => {
    const result = await measureRedisMemory({ redisUrl: redis.url, recordings: 40, prefix: "recfleet" });
    const group = (prefix: string) => result.groups.find((g) => g.kind.startsWith(prefix));
    expect(group("recording hashes")?.keys).toBe(40);
    expect(group("completed job hashes")?.keys).toBe(120);
    expect(group("mailer sent markers")?.keys).toBe(40);
    expect(group("egress id lookups")?.keys).toBe(40);
    expect(result.recordingHashBytes).toBeGreaterThan(result.recordingDocumentBytes);
    expect(result.completedJobHashBytes).toBeGreaterThan(0);
    expect(result.usedMemoryDelta).toBeGreaterThan(
      result.groups.filter((g) => g.kind.startsWith("recording hashes")).reduce((sum, g) => sum + g.bytes, 0),
    );
    expect(result.keysPerRecording).toBeGreaterThanOrEqual(7);
  });
});
