import { spawnTs } from "./processes.ts";

export interface LifecycleResult {
  startLine: string;
  exitCode: number | string;
  lines: string[];
}

/**
 * Starts an app's main.ts as a child process, waits for its "<name> started" line, sends
 * SIGTERM and returns how it exited.
 */
export async function startAndTerminate(
  entry: string,
  name: string,
  env: Record<string, string | undefined>,
): Promise<LifecycleResult> {
  const app = spawnTs(entry, [], { env });
  const startLine = await app.waitForLine(new RegExp(`"msg":"${name} started"`), 20_000);
  const exitCode = await app.stop("SIGTERM");
  return { startLine, exitCode, lines: app.lines };
}

/** Runs an app's main.ts until it exits by itself (e.g. on bad config, or `--help`). */
export async function runToExit(entry: string, env: Record<string, string | undefined>, args: string[] = []) {
  const app = spawnTs(entry, args, { env });
  const timer = setTimeout(() => void app.stop("SIGKILL"), 20_000);
  const exitCode = await app.exited;
  clearTimeout(timer);
  return { exitCode, lines: app.lines };
}
