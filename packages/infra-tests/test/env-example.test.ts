// infra/compose/.env.example against the config schema.
import { allSections, ConfigError, loadConfig, settingsOf } from "@recfleet/config";
import { describe, expect, it } from "vitest";
import { envExample } from "./support/compose.ts";
import { requiredVars, SCHEMA_VARS, SENSITIVE_VARS } from "./support/schema.ts";

const entries = envExample();

describe(".env.example", () => {
  it("defines each variable once", () => {
    const names = entries.map((entry) => entry.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it("documents every variable that is not a setting of the config schema with a comment", () => {
    const undocumented = entries
      .filter((entry) => !SCHEMA_VARS.has(entry.name))
      .filter((entry) => !entry.comment.some((line) => line !== "" && !line.startsWith("---")))
      .map((entry) => entry.name);
    expect(undocumented).toEqual([]);
  });

  it("gives every config-schema variable a value the schema accepts", () => {
    const schemaValues = Object.fromEntries(
      entries.filter((entry) => SCHEMA_VARS.has(entry.name)).map((entry) => [entry.name, entry.value]),
    );
    // Settings the compose file sets itself (per app) are filled in so that only these values are judged.
    const fillers = Object.fromEntries(requiredVars(allSections).map((name) => [name, "filled-by-compose"]));
    let problems: string[] = [];
    try {
      loadConfig(allSections, { ...fillers, ...schemaValues });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems.map((problem) => `${problem.env}: ${problem.message}`);
    }
    expect(problems).toEqual([]);
  });

  it("has only placeholder secrets, recognisable as such", () => {
    const secretLike = (name: string) => SENSITIVE_VARS.has(name) || /(SECRET|PASSWORD)/.test(name);
    const real = entries
      .filter((entry) => secretLike(entry.name) && entry.value !== "")
      .filter((entry) => !entry.value.includes("change-me"))
      .map((entry) => entry.name);
    expect(real).toEqual([]);
  });

  it("the schema still has every variable the file names as a setting (no stale names)", () => {
    const settings = new Set(settingsOf().map((setting) => setting.env));
    for (const entry of entries.filter((e) => SCHEMA_VARS.has(e.name)))
      expect(settings.has(entry.name)).toBe(true);
    // A recfleet-looking name that the schema does not know is a typo, not a compose variable.
    const prefixes = [
      "REDIS_",
      "LIVEKIT_",
      "STORAGE_",
      "SMTP_",
      "API_",
      "RECORDER_",
      "MAILER_",
      "LISTENER_",
      "HEALTH_",
    ];
    const lookalikes = entries
      .filter((entry) => !SCHEMA_VARS.has(entry.name))
      .filter((entry) => prefixes.some((prefix) => entry.name.startsWith(prefix)))
      .map((entry) => entry.name);
    // REDIS_MAXMEMORY configures the Redis container, not the apps.
    expect(lookalikes).toEqual(["REDIS_MAXMEMORY"]);
  });
});
