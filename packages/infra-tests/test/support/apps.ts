// What the infrastructure must agree with, read from the apps' own sources: the config sections
// each app loads, its shutdown deadline, the queue it consumes, where it serves health checks.
import { stripTypeScriptTypes } from "node:module";
import { APP_SECTIONS, type AppName, type FleetConfig, type Section } from "@recfleet/config";
import { QUEUE_NAMES, type QueueName } from "@recfleet/queues";
import { readRepoFile } from "../../scripts/repo.ts";

export type { AppName };
export const APPS = Object.keys(APP_SECTIONS) as AppName[];

function mainSource(app: AppName): string {
  return readRepoFile(`apps/${app}/src/main.ts`);
}

/**
 * The sections the app loads: its entry of APP_SECTIONS (which its main passes to runApp, checked
 * here), plus "log", which runApp always adds.
 */
export function appSections(app: AppName): Section[] {
  const key = app.includes("-") ? `APP_SECTIONS["${app}"]` : `APP_SECTIONS.${app}`;
  if (!mainSource(app).includes(`sections: ${key},`)) {
    throw new Error(`apps/${app}/src/main.ts does not pass ${key} to runApp`);
  }
  return [...new Set([...APP_SECTIONS[app], "log"])] as Section[];
}

/** True when the app serves /healthz on the workers' HEALTH_PORT rather than on the API's PORT. */
export function usesHealthPort(app: AppName): boolean {
  return mainSource(app).includes("startHealthServer(");
}

/** The queue the app consumes (createConsumer("<queue>", …) in its sources), if any. */
export function consumedQueue(app: AppName, sources: string): QueueName | undefined {
  const match = /createConsumer\(\s*"([a-z-]+)"/.exec(sources);
  if (!match) return undefined;
  const queue = match[1] as QueueName;
  if (!QUEUE_NAMES.includes(queue)) throw new Error(`apps/${app} consumes unknown queue ${queue}`);
  return queue;
}

/** The slice of source text of one expression that starts at `start`: up to a top-level , or }. */
function expressionAt(source: string, start: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < source.length; i += 1) {
    const char = source[i] ?? "";
    if (quote) {
      if (char === "\\") i += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === "`") quote = char;
    else if ("([{".includes(char)) depth += 1;
    else if (")]}".includes(char)) {
      if (depth === 0) return source.slice(start, i);
      depth -= 1;
    } else if ((char === "," || char === ";") && depth === 0) return source.slice(start, i);
  }
  throw new Error("unterminated expression");
}

/**
 * The app's shutdown deadline (ms) for a config, computed by the very expression its main.ts
 * passes to runApp (with the module's top-level helper constants it may call).
 */
export function shutdownDeadlineMs(app: AppName, config: Partial<FleetConfig>): number {
  const source = stripTypeScriptTypes(mainSource(app));
  const marker = source.indexOf("shutdownDeadlineMs:");
  if (marker < 0) throw new Error(`apps/${app}/src/main.ts: no shutdownDeadlineMs`);
  const expression = expressionAt(source, marker + "shutdownDeadlineMs:".length).trim();
  const beforeRunApp = source.slice(0, source.indexOf("await runApp("));
  const helpers = [...beforeRunApp.matchAll(/^const\s+\w+\s*=/gm)].map(
    (m) => `${expressionAt(beforeRunApp, m.index ?? 0)};`,
  );
  const evaluate = new Function("config", `${helpers.join("\n")}\nreturn (${expression})(config);`) as (
    config: Partial<FleetConfig>,
  ) => unknown;
  const value = evaluate(config);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`apps/${app}: shutdownDeadlineMs gave ${String(value)}`);
  }
  return value;
}
