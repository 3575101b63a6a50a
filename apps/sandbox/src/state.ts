import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { processAlive } from "@recfleet/runtime";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface StateDirs {
  root: string;
  redis: string;
  s3: string;
  mail: string;
  logs: string;
}

/** The sandbox's state directory: SANDBOX_DIR (relative to the repository) or .sandbox/. */
export function sandboxRoot(env: NodeJS.ProcessEnv): string {
  const configured = env.SANDBOX_DIR ?? ".sandbox";
  return isAbsolute(configured) ? configured : resolve(REPO_ROOT, configured);
}

const LOCK_FILE = "sandbox.lock";

export class SandboxLockedError extends Error {
  readonly pid: number;

  constructor(root: string, pid: number) {
    super(
      `a sandbox is already running on ${root} (pid ${pid}): stop it first (Ctrl-C in its terminal, or kill ${pid}), or set SANDBOX_DIR to another folder`,
    );
    this.name = "SandboxLockedError";
    this.pid = pid;
  }
}

/** Where the last sandbox started from this checkout keeps its state (for `npm run demo`). */
const CURRENT_FILE = join(REPO_ROOT, ".sandbox.current");

/** No sandbox answers where one was looked for: a message for a person, no stack trace. */
export class NoSandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoSandboxError";
  }
}

/**
 * One sandbox per state directory: two would share one Redis AOF, one S3 folder and one
 * sandbox.json. Takes `<root>/sandbox.lock` (created exclusively, holding this pid), taking over
 * a lock whose process is gone; answers the function that releases it.
 */
export function lockState(root: string): () => void {
  mkdirSync(root, { recursive: true });
  const file = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = lockHolder(root);
      if (holder !== undefined && holder !== process.pid) throw new SandboxLockedError(root, holder);
      // Left by a sandbox that died without cleaning up.
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take ${file}`);
}

/** The pid holding a folder's lock while it lives, else undefined. */
function lockHolder(root: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(root, LOCK_FILE), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Notes this folder as the running sandbox of the checkout, so that the demo finds it. */
export function markCurrent(root: string): () => void {
  writeFileSync(CURRENT_FILE, `${root}\n`);
  return () => {
    try {
      if (readFileSync(CURRENT_FILE, "utf8").trim() === root) rmSync(CURRENT_FILE, { force: true });
    } catch {
      // already gone
    }
  };
}

/**
 * The folder of the sandbox to talk to: SANDBOX_DIR when set, else the running sandbox started
 * from this checkout (whatever SANDBOX_DIR it was started with), else the default folder.
 */
function runningRoot(env: NodeJS.ProcessEnv): string {
  if (env.SANDBOX_DIR) return sandboxRoot(env);
  try {
    const current = readFileSync(CURRENT_FILE, "utf8").trim();
    if (current !== "" && lockHolder(current) !== undefined) return current;
  } catch {
    // none started
  }
  return sandboxRoot(env);
}

export function prepareState(env: NodeJS.ProcessEnv, fresh: boolean): StateDirs {
  const root = sandboxRoot(env);
  if (fresh && existsSync(root)) {
    // Everything but the lock this process holds.
    for (const entry of readdirSync(root)) {
      if (entry !== LOCK_FILE) rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
  const dirs = {
    root,
    redis: join(root, "redis"),
    s3: join(root, "s3"),
    mail: join(root, "mail"),
    logs: join(root, "logs"),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  return dirs;
}

/** A secret kept in the state directory, generated on first use. */
export function persistentSecret(root: string, name: string, bytes = 24): string {
  const file = join(root, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const value = randomBytes(bytes).toString("base64url");
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** What `npm run demo` and people need to reach a running sandbox. */
export interface SandboxInfo {
  apiUrl: string;
  apiKey: string;
  dashboardUrl: string;
  dashboardUser: string;
  dashboardPassword: string;
  mailUrl: string;
  s3: {
    endpoint: string;
    port: number;
    accessKey: string;
    secretKey: string;
    bucket: string;
    prefix: string;
  };
  livekitUrl: string;
  /** What a LiveKit SDK or CLI needs to talk to the sandbox's LiveKit emulator. */
  livekit: { url: string; apiKey: string; apiSecret: string; autoRoom: boolean };
  /** The LiveKit emulator's RTMP ingest: a stream output's destination takes any key after it. */
  rtmpIngestUrl: string;
  redisUrl: string;
  logs: string;
  mailDir: string;
  /** Readiness URL of each app process, by process name (api, recorder, recorder-2 …). */
  health: Record<string, string>;
}

export function writeInfo(root: string, info: SandboxInfo): void {
  writeFileSync(join(root, "sandbox.json"), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** What the running sandbox wrote when it was ready; NoSandboxError when none runs there. */
export function readInfo(env: NodeJS.ProcessEnv): SandboxInfo {
  const root = runningRoot(env);
  const file = join(root, "sandbox.json");
  if (lockHolder(root) === undefined) {
    throw new NoSandboxError(
      `no sandbox is running on ${root}: start one with \`npm start\`${env.SANDBOX_DIR ? " (with the same SANDBOX_DIR)" : ""}`,
    );
  }
  if (!existsSync(file)) {
    throw new NoSandboxError(
      `the sandbox on ${root} is still starting: run this again once it shows its banner`,
    );
  }
  return JSON.parse(readFileSync(file, "utf8")) as SandboxInfo;
}
