// What the sandbox checks before it starts anything: a bad setting or a taken port is reported
// at once, all of them together, instead of after the emulators started, one app at a time.

import { APP_SECTIONS, type AppName, ConfigError, formatProblem, loadConfig } from "@recfleet/config";
import { listenError } from "@recfleet/runtime";
import type { ProcessSpec } from "./supervisor.ts";

function appOf(processName: string): AppName | undefined {
  const name = processName.replace(/-\d+$/, "");
  return name in APP_SECTIONS ? (name as AppName) : undefined;
}

/**
 * Every app's configuration as that app will load it (the sandbox's environment plus what the
 * plan gives it): one line per problem, each problem once.
 */
export function configProblems(
  specs: readonly ProcessSpec[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const lines: string[] = [];
  for (const spec of specs) {
    const app = appOf(spec.name);
    if (!app) continue;
    try {
      loadConfig([...APP_SECTIONS[app], "log"], { ...env, ...spec.env });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) {
        const line = formatProblem(problem);
        if (!lines.includes(line)) lines.push(line);
      }
    }
  }
  return lines;
}

/** Why `port` cannot be listened on, or undefined when it can (it is closed again at once). */
export async function portProblem(
  port: number,
  setting: string,
  host = "127.0.0.1",
): Promise<string | undefined> {
  if (port === 0) return undefined;
  const error = await listenError(port, host);
  if (!error) return undefined;
  return error.code === "EADDRINUSE"
    ? `${setting}=${port}: the port is already in use on ${host} (another sandbox, or another program); set ${setting} to a free port`
    : `${setting}=${port}: cannot listen on ${host}:${port} (${error.code ?? error.message})`;
}
