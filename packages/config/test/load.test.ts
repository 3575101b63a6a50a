import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/index.ts";
import { problemsOf } from "./problems.ts";

const LIVEKIT_OK = { LIVEKIT_API_KEY: "APIkey", LIVEKIT_API_SECRET: "s3cret-value-0123456789" };

describe("loadConfig", () => {
  it("applies defaults and reads env vars of the requested sections only", () => {
    const config = loadConfig(["redis", "log"], { REDIS_URL: "redis://10.0.0.5:6380", LOG_LEVEL: "debug" });
    expect(config).toEqual({
      redis: { url: "redis://10.0.0.5:6380", prefix: "recfleet", tls: false, commandTimeoutMs: 2000 },
      log: { level: "debug" },
    });
    expect(config).not.toHaveProperty("livekit");
  });

  it("does not ask an app for settings of sections it does not load", () => {
    // The mailer never loads the livekit section, so missing LiveKit credentials are no problem.
    expect(() => loadConfig(["redis", "smtp", "mailer"], {})).not.toThrow();
    expect(problemsOf(() => loadConfig(["livekit"], {}))).toEqual([
      "config: LIVEKIT_API_KEY: must be set",
      "config: LIVEKIT_API_SECRET: must be set",
    ]);
  });

  it("names the env var, the problem and the expectation, one line per problem", () => {
    const lines = problemsOf(() =>
      loadConfig(["redis", "api", "recorder", "profiles"], {
        REDIS_URL: "nope",
        PORT: "80a",
        REDIS_TLS: "maybe",
        RECORDER_CONCURRENCY: "0",
        DEFAULT_LAYOUT: "mosaic",
        API_BODY_LIMIT: "lots",
        API_PUBLIC_URL: "https://recordings.example.com",
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        "config: REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379",
        "config: PORT: must be a port number from 0 to 65535",
        "config: REDIS_TLS: must be true or false",
        "config: RECORDER_CONCURRENCY: must be a whole number ≥ 1",
        expect.stringMatching(/^config: DEFAULT_LAYOUT: must be one of the possible values: \["speaker"/),
        "config: API_BODY_LIMIT: must be a size such as 16kb, 1mb or a byte count",
      ]),
    );
    expect(lines).toHaveLength(6);
  });

  it("parses numbers, booleans, sizes and lists strictly", () => {
    const config = loadConfig(["api", "redis"], {
      PORT: "9000",
      API_BODY_LIMIT: "32kb",
      REDIS_TLS: "yes",
      API_KEYS: "key-aaaaaaaaaaaaaaaa, acme=key-bbbbbbbbbbbbbbbb",
      API_PUBLIC_URL: "https://recordings.example.com",
    });
    expect(config.api.port).toBe(9000);
    expect(config.api.bodyLimit).toBe(32 * 1024);
    expect(config.redis.tls).toBe(true);
    expect(config.api.apiKeys).toEqual(["key-aaaaaaaaaaaaaaaa", "acme=key-bbbbbbbbbbbbbbbb"]);
  });

  it("never prints a secret value in an error", () => {
    const secret = "short";
    const lines = problemsOf(() =>
      loadConfig(["api"], { API_KEYS: secret, API_PUBLIC_URL: "https://recordings.example.com" }),
    );
    expect(lines).toEqual(["config: API_KEYS: every key must be at least 16 characters long"]);
    expect(lines.join("\n")).not.toContain(secret);
    const redisLines = problemsOf(() => loadConfig(["redis"], { REDIS_URL: "http://user:hunter2@host" }));
    expect(redisLines.join("\n")).not.toContain("hunter2");
  });

  it("requires API_PUBLIC_URL, a 12-character dashboard password and a sane API_TRUST_PROXY", () => {
    const lines = problemsOf(() =>
      loadConfig(["api"], { DASHBOARD_PASSWORD: "a", API_TRUST_PROXY: "everyone", API_KEYS: "acme=short" }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config: API_PUBLIC_URL: must be set to the API's public base URL/),
        "config: DASHBOARD_PASSWORD: must be at least 12 characters long (or empty: no dashboard)",
        expect.stringMatching(/^config: API_TRUST_PROXY: must be empty \(trust no proxy\), a hop count/),
        "config: API_KEYS: every key must be at least 16 characters long",
      ]),
    );
    expect(lines).toHaveLength(4);
    const ok = loadConfig(["api"], {
      API_PUBLIC_URL: "https://recordings.example.com",
      API_TRUST_PROXY: "10.0.0.0/8, loopback",
    });
    expect(ok.api.dashboardReadOnly).toBe(true);
  });

  it("reads secrets from <VAR>_FILE and rejects setting both", () => {
    const dir = mkdtempSync(join(tmpdir(), "recfleet-config-"));
    const file = join(dir, "secret");
    writeFileSync(file, "from-a-file-0123456789\n");
    const config = loadConfig(["livekit"], { LIVEKIT_API_KEY: "APIkey", LIVEKIT_API_SECRET_FILE: file });
    expect(config.livekit.apiSecret).toBe("from-a-file-0123456789");

    expect(
      problemsOf(() => loadConfig(["livekit"], { ...LIVEKIT_OK, LIVEKIT_API_SECRET_FILE: file })),
    ).toEqual([
      "config: LIVEKIT_API_SECRET_FILE: set both LIVEKIT_API_SECRET and LIVEKIT_API_SECRET_FILE; set only one",
    ]);
    expect(
      problemsOf(() =>
        loadConfig(["livekit"], { LIVEKIT_API_KEY: "k", LIVEKIT_API_SECRET_FILE: join(dir, "missing") }),
      ),
    ).toEqual([`config: LIVEKIT_API_SECRET_FILE: cannot read the file ${join(dir, "missing")} (ENOENT)`]);
  });

  it("caps the presigned link expiry at SigV4's 7 days", () => {
    expect(problemsOf(() => loadConfig(["mailer"], { MAILER_LINK_EXPIRY_SECONDS: "604801" }))).toEqual([
      "config: MAILER_LINK_EXPIRY_SECONDS: must be a number of seconds from 1 to 604800 (7 days)",
    ]);
  });

  it("checks the encoding bounds, the template allow-list and the callback timeout", () => {
    const config = loadConfig(["encoding", "callbacks"], {
      ENCODING_CUSTOM_BASE_URLS: "https://templates.example/recording/, http://10.0.0.5:8080/t",
      CALLBACKS_ALLOW_PRIVATE_TARGETS: "true",
    });
    expect(config.encoding.customBaseUrls).toEqual([
      "https://templates.example/recording/",
      "http://10.0.0.5:8080/t",
    ]);
    expect(config.encoding.maxWidth).toBe(1920);
    expect(config.callbacks).toEqual({
      allowPrivateTargets: true,
      timeoutMs: 10000,
      retryDelayMs: 5000,
      retryWindowMs: 93600000,
    });
    expect(
      problemsOf(() =>
        loadConfig(["encoding", "callbacks"], {
          ENCODING_MAX_WIDTH: "1921",
          ENCODING_MAX_FRAMERATE: "61",
          ENCODING_CUSTOM_BASE_URLS: "https://t.example/?q=1",
          CALLBACKS_TIMEOUT_MS: "30000",
        }),
      ),
    ).toEqual([
      "config: ENCODING_MAX_WIDTH: must be an even number of pixels from 16 to 7680",
      "config: ENCODING_MAX_FRAMERATE: must be a frame rate from 1 to 60",
      'config: ENCODING_CUSTOM_BASE_URLS: must be http(s) URLs without credentials, query or fragment, such as https://templates.example/recording/; "https://t.example/?q=1" is not',
      "config: CALLBACKS_TIMEOUT_MS: must be a number of milliseconds from 1 to 10000",
    ]);
  });
});
