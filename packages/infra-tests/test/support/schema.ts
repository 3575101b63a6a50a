// The config schema seen from outside: every env var, which ones are secret, which are required.
import {
  allSections,
  type Environment,
  loadConfig,
  type Section,
  schema,
  settingsOf,
} from "@recfleet/config";

export const SCHEMA_VARS = new Set(settingsOf().map((setting) => setting.env));
export const SENSITIVE_VARS = new Set(
  settingsOf().flatMap((setting) => (setting.sensitive ? [setting.env] : [])),
);

/** A variable an app reads: a schema variable, or <VAR>_FILE of a secret one. */
export function isConfigVariable(name: string): boolean {
  if (SCHEMA_VARS.has(name)) return true;
  return name.endsWith("_FILE") && SENSITIVE_VARS.has(name.slice(0, -"_FILE".length));
}

/** Settings that must be given: format required-string with an empty default. */
export function requiredVars(sections: readonly Section[]): string[] {
  const required: string[] = [];
  for (const section of sections) {
    for (const item of Object.values(
      schema[section] as Record<string, { env: string; format: unknown; default: unknown }>,
    )) {
      if (item.format === "required-string" && item.default === "") required.push(item.env);
    }
  }
  return required;
}

/** Loads the config as the app would; throws ConfigError naming every problem. */
export function loadAs(sections: readonly Section[], env: Environment) {
  return loadConfig(sections, env);
}

export { allSections };

/** The schema's default value of a setting, by env var. */
export function defaultOf(env: string): unknown {
  for (const section of allSections) {
    for (const item of Object.values(schema[section] as Record<string, { env: string; default: unknown }>)) {
      if (item.env === env) return item.default;
    }
  }
  throw new Error(`no setting with env var ${env}`);
}
