import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EXIT_CONFIG } from "@recfleet/config";
import { renderBanner } from "./banner.ts";
import { DEFAULT_PORTS, type EmulatorPorts, PORT_SETTINGS, planFleet } from "./fleet.ts";
import { createLineFormatter, useColour } from "./log-format.ts";
import { configProblems, portProblem } from "./preflight.ts";
import {
  lockState,
  markCurrent,
  persistentSecret,
  prepareState,
  SandboxLockedError,
  sandboxRoot,
  writeInfo,
} from "./state.ts";
import { Supervisor } from "./supervisor.ts";

const USAGE = `Usage: npm start [-- --fresh]

Runs the whole recfleet fleet locally on emulators: Redis, an S3 (MinIO) emulator, an SMTP
catcher, a LiveKit emulator (rooms, participants, egress) and the four apps.

  --fresh      wipe the state directory first
  -h, --help   this help

Environment: PORT (API port, default 8080); SANDBOX_LIVEKIT_PORT (7880), SANDBOX_S3_PORT (9000),
SANDBOX_SMTP_PORT (1025), SANDBOX_MAIL_PORT (the mail page, 8025), SANDBOX_RTMP_PORT (the RTMP
ingest, 1935); API_KEYS (else a key is generated and kept in <state>/api-key), SANDBOX_DIR
(default .sandbox; one sandbox per folder), REDIS_URL (use this Redis instead of starting one),
LOG_LEVEL (default info), NO_COLOR, SANDBOX_AUTO_ROOM (default true: a recording of a room
that does not exist opens it with one participant publishing a camera and a microphone; false
behaves like LiveKit, where the room must exist or open within the recording's room wait);
AUTO_RECORD_FILE (default: a rule that records every room named auto-… by itself).`;

/** The sandbox's own auto-record rule: a room whose name starts with auto- records itself. */
const SANDBOX_RULES = {
  rules: [
    {
      name: "sandbox-auto",
      match: "auto-*",
      trigger: "room_started",
      notify: { email: "auto-record@example.com" },
    },
  ],
};

function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n`);
  process.exit(1);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        fresh: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
})();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const env = process.env;
function portSetting(name: string, fallback: number): number {
  const text = env[name]?.trim() || String(fallback);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    fail(`${name} must be a port number (1-65535), got ${JSON.stringify(env[name])}`);
  }
  return port;
}
const apiPort = portSetting("PORT", 8080);
// Fixed, as the real tools' are: a link in an email from before a restart still works after it.
const ports: EmulatorPorts = {
  livekit: portSetting(PORT_SETTINGS.livekit, DEFAULT_PORTS.livekit),
  s3: portSetting(PORT_SETTINGS.s3, DEFAULT_PORTS.s3),
  smtp: portSetting(PORT_SETTINGS.smtp, DEFAULT_PORTS.smtp),
  mail: portSetting(PORT_SETTINGS.mail, DEFAULT_PORTS.mail),
  rtmp: portSetting(PORT_SETTINGS.rtmp, DEFAULT_PORTS.rtmp),
};
let releaseLock: () => void;
try {
  releaseLock = lockState(sandboxRoot(env));
} catch (error) {
  fail(
    error instanceof SandboxLockedError
      ? error.message
      : `cannot lock the sandbox folder: ${(error as Error).message}`,
  );
}
process.on("exit", () => releaseLock());
const state = prepareState(env, values.fresh);
const apiKey = env.API_KEYS?.split(",")[0]?.trim() || persistentSecret(state.root, "api-key");
const autoRoom = (env.SANDBOX_AUTO_ROOM ?? "true").trim().toLowerCase();
if (autoRoom !== "true" && autoRoom !== "false")
  fail(`SANDBOX_AUTO_ROOM must be true or false, got ${JSON.stringify(env.SANDBOX_AUTO_ROOM)}`);
// Real media needs ffmpeg; without it recordings hold placeholder bytes that no player opens.
const ffmpeg = spawnSync("ffmpeg", ["-hide_banner", "-version"], { stdio: "ignore" }).status === 0;
if (!ffmpeg) {
  process.stderr.write(
    "sandbox: warning: ffmpeg is not installed, so recordings hold placeholder bytes no player opens; install it (Debian: apt-get install ffmpeg) for real video and audio\n",
  );
}
// Rooms named auto-… record themselves (docs/auto-record.md), unless AUTO_RECORD_FILE names other rules.
const autoRecordFile = env.AUTO_RECORD_FILE?.trim() || join(state.root, "auto-record.json");
if (!env.AUTO_RECORD_FILE?.trim())
  writeFileSync(autoRecordFile, `${JSON.stringify(SANDBOX_RULES, null, 2)}\n`);
const plan = await planFleet({
  state,
  apiPort,
  apiKeys: env.API_KEYS?.trim() ? env.API_KEYS : apiKey,
  apiKey,
  secrets: {
    livekit: persistentSecret(state.root, "livekit-secret"),
    s3: persistentSecret(state.root, "s3-secret"),
    dashboard: persistentSecret(state.root, "dashboard-password", 12),
  },
  ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
  logLevel: env.LOG_LEVEL ?? "info",
  autoRoom: autoRoom === "true",
  // The room opens a moment after the request, as a meeting does: the recording waits for it.
  autoRoomDelayMs: 1500,
  media: ffmpeg ? "ffmpeg" : "placeholder",
  autoRecordFile,
  ports,
});

// Everything that can be known wrong before anything starts is reported now, all at once.
const portChecks = await Promise.all([
  portProblem(apiPort, "PORT"),
  ...(Object.keys(ports) as (keyof EmulatorPorts)[]).map((name) =>
    portProblem(ports[name], PORT_SETTINGS[name]),
  ),
]);
const problems = [...configProblems(plan.specs), ...portChecks.filter((line) => line !== undefined)];
if (problems.length > 0) {
  process.stderr.write(`${problems.map((line) => `sandbox: ${line}`).join("\n")}\n`);
  process.exit(EXIT_CONFIG);
}

const names = plan.specs.map((spec) => spec.name);
const format = createLineFormatter(names, useColour(process.stdout));
const supervisor = new Supervisor({
  logsDir: state.logs,
  print: (line) => process.stdout.write(`${line}\n`),
  format,
});
let shuttingDown = false;

async function shutdown(code: number): Promise<never> {
  shuttingDown = true;
  process.stdout.write("sandbox: stopping every process, newest first …\n");
  await supervisor.stopAll();
  process.stdout.write("sandbox: stopped.\n");
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    void shutdown(0);
  });
}

void supervisor.failed.then(async (failure) => {
  if (shuttingDown) return;
  process.stderr.write(
    `\nsandbox: ${failure.name} exited (${failure.code}). Last lines of its log:\n${failure.tail.map((line) => `  ${line}`).join("\n")}\n`,
  );
  await shutdown(1);
});

try {
  for (const spec of plan.specs) {
    if (shuttingDown) break;
    await supervisor.start(spec);
  }
} catch (error) {
  if (!shuttingDown) {
    process.stderr.write(`\nsandbox: ${(error as Error).message}\n`);
    await shutdown(1);
  }
}
if (!shuttingDown) {
  writeInfo(state.root, plan.info);
  const clearCurrent = markCurrent(state.root);
  process.on("exit", () => clearCurrent());
  process.stdout.write(`\n${renderBanner(plan.info, state.root)}\n\n`);
}
