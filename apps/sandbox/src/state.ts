import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface StateDirs {
  root: string;
  redis: string;
  s3: string;
  mail: string;
  logs: string;
}

/** The sandbox's state directory: SANDBOX_DIR (relative to the repository) or .sandbox/. */
export function prepareState(env: NodeJS.ProcessEnv, fresh: boolean): StateDirs {
  const configured = env.SANDBOX_DIR ?? ".sandbox";
  const root = isAbsolute(configured) ? configured : resolve(REPO_ROOT, configured);
  if (fresh) rmSync(root, { recursive: true, force: true });
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
  redisUrl: string;
  logs: string;
  mailDir: string;
  /** Readiness URL of each app process, by process name (api, recorder, recorder-2 …). */
  health: Record<string, string>;
}

export function writeInfo(root: string, info: SandboxInfo): void {
  writeFileSync(join(root, "sandbox.json"), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export function readInfo(env: NodeJS.ProcessEnv): SandboxInfo {
  const configured = env.SANDBOX_DIR ?? ".sandbox";
  const root = isAbsolute(configured) ? configured : resolve(REPO_ROOT, configured);
  const file = join(root, "sandbox.json");
  if (!existsSync(file))
    throw new Error(`no running sandbox found (${file} is missing): start one with \`npm start\``);
  return JSON.parse(readFileSync(file, "utf8")) as SandboxInfo;
}
