import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { freePort } from "@recfleet/runtime";
import { Redis } from "ioredis";
import { REPO_ROOT, type SandboxInfo, type StateDirs } from "./state.ts";
import type { ProcessSpec, SupervisedProcess } from "./supervisor.ts";

const node = process.execPath;
const tsEntry = (path: string) => [`--conditions=@recfleet/source`, join(REPO_ROOT, path)];

const LIVEKIT_KEY = "sandbox-key";
const S3_ACCESS_KEY = "recfleet";
const BUCKET = "recordings";
const PREFIX = "recordings";

export interface FleetPlan {
  specs: ProcessSpec[];
  info: SandboxInfo;
}

export interface FleetOptions {
  state: StateDirs;
  apiPort: number;
  apiKeys: string;
  apiKey: string;
  secrets: { livekit: string; s3: string; dashboard: string };
  redisUrl?: string;
  logLevel: string;
  /** How many processes of each worker app to run (default one each). */
  replicas?: Partial<Record<WorkerApp, number>>;
  /**
   * The LiveKit emulator opens a room that a recording asks for and that does not exist, with
   * one publishing participant (the sandbox's one-curl experience); off, it answers 404 as
   * LiveKit does.
   */
  autoRoom: boolean;
  /** How long after the first Start such a room opens (default 0: at once). */
  autoRoomDelayMs?: number;
  /**
   * What the LiveKit emulator's files and segments hold: real media rendered by ffmpeg, or
   * placeholder bytes (default; what tests use, to spare the CPU).
   */
  media?: "ffmpeg" | "placeholder";
  /** AUTO_RECORD_FILE for the API and the recorder; none when left out. */
  autoRecordFile?: string;
  /** Extra command-line flags for the emulators (fault knobs). */
  emulatorArgs?: Partial<Record<"s3" | "smtp" | "livekit", string[]>>;
  /** Fixed ports for the emulators; a free port is drawn for each one left out (tests). */
  ports?: Partial<EmulatorPorts>;
}

/** The emulators' ports, as people know them from the real tools. */
export interface EmulatorPorts {
  /** `livekit-server --dev`. */
  livekit: number;
  /** MinIO. */
  s3: number;
  /** A mail catcher's SMTP port and web page (MailHog, Mailpit). */
  smtp: number;
  mail: number;
  /** RTMP's own port: the LiveKit emulator's stand-in for a live-streaming service. */
  rtmp: number;
}

export const DEFAULT_PORTS: EmulatorPorts = { livekit: 7880, s3: 9000, smtp: 1025, mail: 8025, rtmp: 1935 };

/** The setting that overrides each emulator's port in `npm start`. */
export const PORT_SETTINGS: Record<keyof EmulatorPorts, string> = {
  livekit: "SANDBOX_LIVEKIT_PORT",
  s3: "SANDBOX_S3_PORT",
  smtp: "SANDBOX_SMTP_PORT",
  mail: "SANDBOX_MAIL_PORT",
  rtmp: "SANDBOX_RTMP_PORT",
};

const WORKERS = ["recorder", "storage-listener", "mailer"] as const;
export type WorkerApp = (typeof WORKERS)[number];

async function waitForHttp(url: string, timeoutMs: number, process: SupervisedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null)
      throw new Error(`${process.name} exited before it was ready (see ${process.logFile})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${process.name} not ready at ${url} within ${timeoutMs} ms (${last}); see ${process.logFile}`,
  );
}

async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`redis at ${url} did not answer within ${timeoutMs} ms`);
}

/**
 * The whole fleet on emulators, in start order: Redis, S3, SMTP catcher, LiveKit Egress, then the
 * four apps wired through their normal configuration (env). Ports are found before start so
 * that each process can be told where the others are.
 */
export async function planFleet(options: FleetOptions): Promise<FleetPlan> {
  const { state, secrets } = options;
  const fixed = options.ports ?? {};
  const [redisPort, s3Port, smtpPort, mailHttpPort, livekitPort, rtmpPort] = await Promise.all([
    freePort(),
    fixed.s3 ?? freePort(),
    fixed.smtp ?? freePort(),
    fixed.mail ?? freePort(),
    fixed.livekit ?? freePort(),
    fixed.rtmp ?? freePort(),
  ]);
  const redisUrl = options.redisUrl ?? `redis://127.0.0.1:${redisPort}`;
  const apiUrl = `http://127.0.0.1:${options.apiPort}`;
  const livekitUrl = `http://127.0.0.1:${livekitPort}`;
  const dashboardUser = "admin";
  const appEnv = {
    LOG_LEVEL: options.logLevel,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: "recfleet",
    LIVEKIT_URL: livekitUrl,
    LIVEKIT_API_KEY: LIVEKIT_KEY,
    LIVEKIT_API_SECRET: secrets.livekit,
    STORAGE_ENDPOINT: "127.0.0.1",
    STORAGE_PORT: String(s3Port),
    STORAGE_USE_SSL: "false",
    STORAGE_ACCESS_KEY: S3_ACCESS_KEY,
    STORAGE_SECRET_KEY: secrets.s3,
    STORAGE_BUCKET: BUCKET,
    STORAGE_PREFIX: PREFIX,
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    SMTP_FROM: "recfleet sandbox <recordings@sandbox.localhost>",
    MAILER_LINK_EXPIRY_SECONDS: "86400",
    // Quick healing in the sandbox: a lost webhook or event is noticed in seconds, not minutes.
    RECORDER_RECONCILE_INTERVAL_MS: "5000",
    RECORDER_FILE_CHECK_AFTER_MS: "5000",
    LISTENER_RESYNC_INTERVAL_MS: "30000",
    // A tenant's callback receiver in the sandbox runs on this machine, on loopback.
    CALLBACKS_ALLOW_PRIVATE_TARGETS: "true",
    CALLBACKS_RETRY_DELAY_MS: "1000",
    // So are the sandbox's stream destinations (the LiveKit emulator's RTMP ingest).
    STREAMS_ALLOW_PRIVATE_TARGETS: "true",
    // The pages a web source may record, as an operator lists them: here the mail catcher's.
    ENCODING_WEB_SOURCE_URLS: `http://127.0.0.1:${mailHttpPort}/`,
    ...(options.autoRecordFile ? { AUTO_RECORD_FILE: options.autoRecordFile } : {}),
  };
  // Flags as --flag=value, so that no value can be read as another flag; secrets go in `env`:
  // the command line shows in `ps` to every user of the machine.
  const emulator = (
    name: "s3" | "smtp" | "livekit",
    path: string,
    flags: Record<string, string>,
    secretEnv: Record<string, string>,
    ready: RegExp,
  ): ProcessSpec => ({
    name,
    command: node,
    args: [
      ...tsEntry(path),
      ...Object.entries(flags).map(([flag, value]) => `--${flag}=${value}`),
      ...(options.emulatorArgs?.[name] ?? []),
    ],
    env: { LOG_LEVEL: options.logLevel, ...secretEnv },
    ready: async (process) => void (await process.waitForLine(ready, 20_000)),
  });
  const app = (name: string, healthUrl: string, env: Record<string, string>): ProcessSpec => ({
    name,
    command: node,
    args: tsEntry(`apps/${name}/src/main.ts`),
    env: { ...appEnv, ...env },
    ready: (process) => waitForHttp(healthUrl, 30_000, process),
    stopGraceMs: 25_000,
  });

  const specs: ProcessSpec[] = [];
  if (!options.redisUrl) {
    const redisServer = process.env.REDIS_SERVER_BIN ?? "redis-server";
    if (spawnSync(redisServer, ["--version"]).status !== 0) {
      throw new Error(
        "redis-server is not installed: install it (apt-get install redis-server) or set REDIS_URL",
      );
    }
    specs.push({
      name: "redis",
      command: redisServer,
      args: [
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--dir",
        state.redis,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--maxmemory-policy",
        "noeviction",
      ],
      ready: () => waitForRedis(redisUrl, 10_000),
      // A production host should set vm.overcommit_memory=1 (Redis forks to rewrite its AOF); a
      // sandbox's few megabytes never need it. Redis says so in several lines at every start.
      quiet: [
        {
          match: /WARNING Memory overcommit must be enabled/,
          instead:
            "(Redis warns that vm.overcommit_memory is 0: harmless for the sandbox; its log has the details)",
        },
      ],
    });
  }
  specs.push(
    emulator(
      "s3",
      "packages/emulators/src/s3/cli.ts",
      { port: String(s3Port), "data-dir": state.s3, "access-key": S3_ACCESS_KEY, bucket: BUCKET },
      { MINIO_ROOT_PASSWORD: secrets.s3 },
      /s3 emulator listening/,
    ),
    emulator(
      "smtp",
      "packages/emulators/src/smtp/cli.ts",
      { "smtp-port": String(smtpPort), "http-port": String(mailHttpPort), dir: state.mail },
      {},
      /smtp emulator listening/,
    ),
    emulator(
      "livekit",
      "packages/emulators/src/livekit/cli.ts",
      {
        port: String(livekitPort),
        "api-key": LIVEKIT_KEY,
        "webhook-url": `${apiUrl}/v1/webhooks/livekit`,
        "activation-delay-ms": "300",
        // A full fleet refuses after ~20 s in LiveKit; the sandbox keeps the wait short.
        "refusal-delay-ms": "2000",
        "rtmp-ingest-port": String(rtmpPort),
        media: options.media ?? "placeholder",
        ...(options.autoRoom
          ? { "auto-room": "true", "auto-room-delay-ms": String(options.autoRoomDelayMs ?? 0) }
          : {}),
      },
      { LIVEKIT_API_SECRET: secrets.livekit },
      /livekit emulator listening/,
    ),
    app("api", `${apiUrl}/readyz`, {
      PORT: String(options.apiPort),
      API_HOST: "127.0.0.1",
      API_KEYS: options.apiKeys,
      API_PUBLIC_URL: apiUrl,
      DASHBOARD_USER: dashboardUser,
      DASHBOARD_PASSWORD: secrets.dashboard,
      // A playground: retrying and removing jobs from the board is part of trying the fleet out.
      DASHBOARD_READ_ONLY: "false",
    }),
  );
  const health: Record<string, string> = { api: `${apiUrl}/readyz` };
  for (const name of WORKERS) {
    for (let replica = 1; replica <= (options.replicas?.[name] ?? 1); replica += 1) {
      const port = await freePort();
      const processName = replica === 1 ? name : `${name}-${replica}`;
      health[processName] = `http://127.0.0.1:${port}/readyz`;
      specs.push({
        ...app(name, health[processName], { HEALTH_PORT: String(port), HEALTH_HOST: "127.0.0.1" }),
        name: processName,
      });
    }
  }
  return {
    specs,
    info: {
      apiUrl,
      apiKey: options.apiKey,
      dashboardUrl: `${apiUrl}/admin/queues`,
      dashboardUser,
      dashboardPassword: secrets.dashboard,
      mailUrl: `http://127.0.0.1:${mailHttpPort}/`,
      s3: {
        endpoint: "127.0.0.1",
        port: s3Port,
        accessKey: S3_ACCESS_KEY,
        secretKey: secrets.s3,
        bucket: BUCKET,
        prefix: PREFIX,
      },
      livekitUrl,
      livekit: {
        url: livekitUrl,
        apiKey: LIVEKIT_KEY,
        apiSecret: secrets.livekit,
        autoRoom: options.autoRoom,
      },
      rtmpIngestUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
      redisUrl,
      logs: state.logs,
      mailDir: state.mail,
      health,
    },
  };
}
