import { readFileSync } from "node:fs";
import convict from "convict";
import { registerFormats } from "./formats.ts";
import { type FleetConfig, type Section, schema } from "./schema.ts";

registerFormats();

/** One problem with one setting, phrased for the operator who has to fix it. */
export interface ConfigProblem {
  env: string;
  key: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `config: ${problem.env}: ${problem.message}`;
}

export type Environment = Record<string, string | undefined>;

interface Leaf {
  key: string;
  env: string;
  sensitive: boolean;
  doc: string;
  default: unknown;
}

function leavesOf(sections: readonly Section[]): Leaf[] {
  const leaves: Leaf[] = [];
  for (const section of sections) {
    for (const [name, item] of Object.entries(
      schema[section] as Record<
        string,
        { env: string; sensitive?: boolean; doc?: string; default?: unknown }
      >,
    )) {
      leaves.push({
        key: `${section}.${name}`,
        env: item.env,
        sensitive: item.sensitive === true,
        doc: item.doc ?? "",
        default: item.default,
      });
    }
  }
  return leaves;
}

/** `--help` of an app: what it is configured with, one setting per entry, secrets' defaults hidden. */
export function settingsHelp(sections: readonly Section[]): string {
  return leavesOf(sections)
    .map((leaf) => {
      const shown =
        leaf.sensitive || leaf.default === "" || leaf.default === undefined || leaf.default === null
          ? ""
          : ` (default ${Array.isArray(leaf.default) ? leaf.default.join(",") || "none" : String(leaf.default)})`;
      const file = leaf.sensitive ? `, or ${leaf.env}_FILE naming a file that holds it` : "";
      return `  ${leaf.env}${shown}${file}\n      ${leaf.doc}`;
    })
    .join("\n");
}

/** All settings of the given sections: env var, key and whether the value is secret. */
export function settingsOf(sections: readonly Section[] = allSections): Leaf[] {
  return leavesOf(sections);
}

export const allSections = Object.keys(schema) as Section[];

// Secrets may come from files (Docker/Kubernetes secrets): <VAR>_FILE names the file.
function resolveFileSecrets(leaves: Leaf[], env: Environment, problems: ConfigProblem[]): Environment {
  const resolved: Environment = { ...env };
  for (const leaf of leaves) {
    if (!leaf.sensitive) continue;
    const fileVar = `${leaf.env}_FILE`;
    const path = env[fileVar];
    if (path === undefined || path === "") continue;
    if (env[leaf.env] !== undefined) {
      problems.push({
        env: fileVar,
        key: leaf.key,
        message: `set both ${leaf.env} and ${fileVar}; set only one`,
      });
      continue;
    }
    try {
      resolved[leaf.env] = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      problems.push({ env: fileVar, key: leaf.key, message: `cannot read the file ${path} (${code})` });
    }
  }
  return resolved;
}

// convict reports "<key>: <message>[: value was <json>]" one per line; turn each into a problem
// that names the env var. The raw value is never echoed: it may be a secret or contain one.
function problemsFromConvict(error: Error, leaves: Leaf[]): ConfigProblem[] {
  const byKey = new Map(leaves.map((leaf) => [leaf.key, leaf]));
  return error.message
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^([\w.]+): (.*?)(?:: value was .*)?$/.exec(line);
      const leaf = match ? byKey.get(match[1] ?? "") : undefined;
      if (!match || !leaf) return { env: "(unknown)", key: "", message: line };
      return { env: leaf.env, key: leaf.key, message: (match[2] ?? "").trim() };
    });
}

/**
 * Loads and validates the given sections from the environment. Throws ConfigError listing
 * every problem at once, so an operator fixes them in one round.
 */
export function loadConfig<const S extends Section>(
  sections: readonly S[],
  env: Environment = process.env,
): Pick<FleetConfig, S> {
  const leaves = leavesOf(sections);
  const problems: ConfigProblem[] = [];
  const resolvedEnv = resolveFileSecrets(leaves, env, problems);
  const subset = Object.fromEntries(sections.map((section) => [section, schema[section]]));
  const config = convict(subset as unknown as convict.Schema<Pick<FleetConfig, S>>, {
    env: resolvedEnv,
    args: [],
  });
  try {
    config.validate({ allowed: "strict" });
  } catch (error) {
    // A secret whose _FILE could not be read is already reported; do not also say "must be set".
    const reported = new Set(problems.map((problem) => problem.key));
    problems.push(
      ...problemsFromConvict(error as Error, leaves).filter((problem) => !reported.has(problem.key)),
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config.getProperties();
}

/** Exit code for a configuration error (EX_CONFIG from sysexits.h). */
export const EXIT_CONFIG = 78;

/**
 * For an app's main: load the config or print one line per problem and exit 78. Never prints a
 * stack trace or a secret.
 */
export function loadConfigOrExit<const S extends Section>(
  sections: readonly S[],
  env: Environment = process.env,
) {
  try {
    return loadConfig(sections, env);
  } catch (error) {
    exitOnConfigError(error);
  }
}

export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  throw error;
}
