import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { ConfigProblem } from "./load.ts";

/** The setting a file was named by, for its problems: `TENANTS_FILE` (`tenants.file`) and such. */
export interface FileSetting {
  env: string;
  key: string;
}

/**
 * Reads an operator's JSON (by its `.json` name) or YAML settings file and answers what it
 * holds under `root`, or the problem that stopped it — naming the setting and the file, never
 * a value (a parser's message gives a position only).
 */
export function readSettingsFile(
  path: string,
  setting: FileSetting,
  root: string,
  /** What `root` holds, in words: "map of tenant names to their settings". */
  holds: string,
): { value: unknown; problems: ConfigProblem[] } {
  const problem = (message: string) => ({ value: undefined, problems: [{ ...setting, message }] });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return problem(`cannot read the file ${path} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  const json = /\.json$/i.test(path);
  let parsed: unknown;
  try {
    parsed = json ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 50 });
  } catch (error) {
    return problem(
      `${path} is not valid ${json ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const shaped =
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.keys(parsed).length === 1 &&
    root in parsed;
  if (!shaped) return problem(`${path} must hold a "${root}:" ${holds}`);
  return { value: (parsed as Record<string, unknown>)[root], problems: [] };
}
