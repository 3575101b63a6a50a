// Emails that link the recording's watch page (MAILER_WATCH_BASE_URL): each email gets its own
// share link, made for it, expiring with MAILER_LINK_EXPIRY_SECONDS or the recording, whichever
// comes first — a link the owner (or the API) can revoke, unlike a presigned download.

import type { Recording } from "@recfleet/recordings";
import { ShareStore } from "@recfleet/recordings";
import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDownloadLinks, NoFileError } from "../src/links.ts";
import { storageConfigFor } from "./support.ts";

let server: TestRedis;
let redis: Redis;
let shares: ShareStore;
const now = new Date("2026-12-01T10:00:00.000Z");

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  shares = new ShareStore({ redis, prefix: uniquePrefix(), now: () => now });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const recording = (expiresAt: string | null) =>
  ({ id: "019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30", tenant: "acme", room: "weekly", expiresAt }) as Recording;

const links = () =>
  createDownloadLinks(
    storageConfigFor(),
    { linkExpirySeconds: 86_400, downloadUrlTemplate: "", watchBaseUrl: "https://recordings.example.com/" },
    () => shares,
  );

describe("watch-page links in emails", () => {
  it("link a share made for the email, expiring after the link expiry, the tenant's", async () => {
    const watch = links();
    expect(watch.mode).toBe("watch");
    const link = await watch.linkFor(recording(null), now);
    const token =
      /^https:\/\/recordings\.example\.com\/watch\/([A-Za-z0-9_-]{43})$/.exec(link.url)?.[1] ?? "";
    expect(link.expiresAt).toEqual(new Date(now.getTime() + 86_400_000));
    expect(await shares.lookup(token)).toMatchObject({
      state: "open",
      share: { recordingId: "019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30", tenant: "acme", by: "email" },
    });
    expect(await watch.otherLinks(recording(null), now)).toEqual([]);
  });

  it("never outlive the recording's files, and refuse one already expired", async () => {
    const soon = new Date(now.getTime() + 3_600_000).toISOString();
    expect((await links().linkFor(recording(soon), now)).expiresAt?.toISOString()).toBe(soon);
    await expect(links().linkFor(recording(now.toISOString()), now)).rejects.toBeInstanceOf(NoFileError);
  });

  it("refuse a base URL that cannot be the API's at start", () => {
    for (const bad of [
      "recordings.example.com",
      "ftp://x.example",
      "https://x.example/?a=1",
      "https://u:p@x.example",
    ]) {
      expect(() =>
        createDownloadLinks(
          storageConfigFor(),
          { linkExpirySeconds: 60, downloadUrlTemplate: "", watchBaseUrl: bad },
          () => shares,
        ),
      ).toThrow(/MAILER_WATCH_BASE_URL: must be the API's public http\(s\) URL/);
    }
  });
});
