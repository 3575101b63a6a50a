// The banner `npm start` prints, and the copy of it the README shows: the same text.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BANNER_WIDTH, renderBanner } from "../src/banner.ts";
import { REPO_ROOT, type SandboxInfo } from "../src/state.ts";

/** The values the README's example shows (a sandbox in the checkout's .sandbox). */
const EXAMPLE: SandboxInfo = {
  apiUrl: "http://127.0.0.1:8080",
  apiKey: "mJpkQstMZTTS5r8i33OY8Ewelkk0IY0l",
  dashboardUrl: "http://127.0.0.1:8080/admin/queues",
  dashboardUser: "admin",
  dashboardPassword: "qlH6VqE_re-WzxA7",
  mailUrl: "http://127.0.0.1:8025/",
  mailDir: join(REPO_ROOT, ".sandbox", "mail"),
  logs: join(REPO_ROOT, ".sandbox", "logs"),
  s3: {
    endpoint: "127.0.0.1",
    port: 9000,
    accessKey: "recfleet",
    secretKey: "not shown",
    bucket: "recordings",
    prefix: "recordings",
  },
  livekitUrl: "http://127.0.0.1:7880",
  livekit: { url: "http://127.0.0.1:7880", apiKey: "sandbox-key", apiSecret: "not shown", autoRoom: true },
  rtmpIngestUrl: "rtmp://127.0.0.1:1935/live",
  redisUrl: "redis://127.0.0.1:6379",
  health: {},
};

describe("the sandbox banner", () => {
  const banner = renderBanner(EXAMPLE, join(REPO_ROOT, ".sandbox"), REPO_ROOT);

  it("fits an 80-column terminal and shows no secret but the ones a user needs", () => {
    expect(banner.split("\n").filter((line) => line.length > BANNER_WIDTH)).toEqual([]);
    expect(banner).not.toContain("not shown");
  });

  it("is the one the README shows", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const start = readme.indexOf("━", readme.indexOf("$ npm start"));
    const end = readme.indexOf("\n", readme.indexOf("━", readme.indexOf("Ctrl-C stops everything.", start)));
    expect(readme.slice(start, end)).toBe(banner);
  });
});
