import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShareStore } from "../src/index.ts";

let server: TestRedis;
let redis: Redis;
let now = new Date("2026-12-01T10:00:00.000Z");
let shares: ShareStore;
let prefix: string;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  prefix = uniquePrefix();
  shares = new ShareStore({ redis, prefix, now: () => now });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000);

describe("share links", () => {
  it("open their recording by a 256-bit token that Redis never holds, only its hash", async () => {
    const { share, token } = await shares.create({
      recording: { id: "rec-1", tenant: "acme" },
      expiresAt: inDays(7),
      note: "for the board",
      by: "api",
    });
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(await shares.lookup(token)).toEqual({ state: "open", share });
    const keys = await redis.keys(`${prefix}:*`);
    const values = await Promise.all(
      keys.map(async (key) =>
        (await redis.type(key)) === "hash" ? JSON.stringify(await redis.hgetall(key)) : await redis.get(key),
      ),
    );
    expect([...keys, ...values].join("\n")).not.toContain(token);
    const altered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect(await shares.lookup(altered)).toEqual({ state: "unknown" });
    expect(await shares.lookup("../../etc/passwd")).toEqual({ state: "unknown" });
  });

  it("are listed per recording, revoked once, and gone (not unknown) once expired or revoked", async () => {
    const first = await shares.create({
      recording: { id: "rec-2", tenant: "acme" },
      expiresAt: inDays(1),
      note: null,
      by: "email",
    });
    now = new Date(now.getTime() + 1000);
    const second = await shares.create({
      recording: { id: "rec-2", tenant: "acme" },
      expiresAt: inDays(30),
      note: null,
      by: "api",
    });
    expect((await shares.list("rec-2")).map((share) => share.id)).toEqual([first.share.id, second.share.id]);
    const revoked = await shares.revoke("rec-2", second.share.id);
    expect(revoked?.revokedAt).toBe(now.toISOString());
    expect(await shares.revoke("rec-2", second.share.id)).toEqual(revoked);
    expect(await shares.revoke("rec-1", second.share.id)).toBeUndefined();
    expect((await shares.lookup(second.token)).state).toBe("revoked");
    now = inDays(2);
    expect((await shares.lookup(first.token)).state).toBe("expired");
    // Kept 30 days past the longest-lived link's expiry, then forgotten.
    expect(await redis.pttl(`${prefix}:rec:shares:rec-2`)).toBeGreaterThan(29 * 86_400_000);
  });
});
