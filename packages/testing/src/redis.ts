import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@recfleet/runtime";
import { Redis } from "ioredis";

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** True when this helper started the server (so it can be stopped and restarted). */
  readonly owned: boolean;
  /** Stops the server for good and removes its files. */
  stop(): Promise<void>;
  /** Kills the server abruptly (SIGKILL), as a crash would; `start()` brings it back on the same port. */
  kill(): Promise<void>;
  /** Starts the server again after kill(), on the same port and data directory. */
  start(): Promise<void>;
}

export interface StartRedisOptions {
  /** Keep an append-only file so that a restart keeps the data (chaos tests). */
  appendOnly?: boolean;
}

const INSTALL_HINT =
  "No Redis for the tests: install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) " +
  "so each test run gets a private server, or set REDIS_URL=redis://host:port to use an existing one.";

function redisServerBinary(): string | undefined {
  const candidate = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const probe = spawnSync(candidate, ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? candidate : undefined;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch (error) {
      lastError = error;
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * A Redis for one test file: a private redis-server on a free port when the binary is
 * installed, else REDIS_URL, else an error that says how to get one.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const binary = redisServerBinary();
  if (!binary) {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error(INSTALL_HINT);
    await waitForPing(url, 5000);
    const notOwned = () =>
      Promise.reject(new Error("the tests use REDIS_URL: this Redis cannot be killed or restarted"));
    return { url, owned: false, stop: async () => {}, kill: notOwned, start: notOwned };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "recfleet-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    options.appendOnly ? "yes" : "no",
    "--appendfsync",
    "always",
    "--dir",
    dir,
    "--maxmemory-policy",
    "noeviction",
    "--loglevel",
    "warning",
  ];
  const start = async () => {
    const proc = spawn(binary, args, { stdio: "ignore" });
    child = proc;
    proc.unref();
    await waitForPing(url, 10_000);
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGKILL");
    });
  };
  await start();
  const cleanupOnExit = () => child?.kill("SIGKILL");
  process.once("exit", cleanupOnExit);
  return {
    url,
    owned: true,
    kill,
    start,
    stop: async () => {
      process.off("exit", cleanupOnExit);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A key prefix no other test uses, so tests sharing one Redis never see each other's keys. */
export function uniquePrefix(label = "t"): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}
