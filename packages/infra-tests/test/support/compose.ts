// Reads infra/compose as docker compose would: the .env file, ${VAR} substitution, YAML merge keys.
import { parse } from "yaml";
import { readRepoFile } from "../../scripts/repo.ts";

export const COMPOSE_FILE = "infra/compose/docker-compose.yml";
export const ENV_EXAMPLE_FILE = "infra/compose/.env.example";

export interface DotenvEntry {
  name: string;
  value: string;
  line: number;
  /** The comment lines right above the variable's block of consecutive variables. */
  comment: string[];
}

/** Parses a compose .env file (KEY=value lines, # comments; values are taken literally). */
export function parseDotenv(text: string): DotenvEntry[] {
  const entries: DotenvEntry[] = [];
  let comment: string[] = [];
  let inBlock = false;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") {
      comment = [];
      inBlock = false;
      return;
    }
    if (line.startsWith("#")) {
      if (inBlock) comment = [];
      inBlock = false;
      comment.push(line.replace(/^#\s?/, ""));
      return;
    }
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`${ENV_EXAMPLE_FILE}:${index + 1}: not a KEY=value line: ${raw}`);
    inBlock = true;
    entries.push({ name: match[1] ?? "", value: match[2] ?? "", line: index + 1, comment: [...comment] });
  });
  return entries;
}

export function envExample(): DotenvEntry[] {
  return parseDotenv(readRepoFile(ENV_EXAMPLE_FILE));
}

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** The variables a string refers to with ${VAR…} or $VAR. */
export function referencedVariables(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1] ?? m[4] ?? "").filter((name) => name !== "");
}

/** Compose's substitution: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt}, $$. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(REFERENCE, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === "$$") return "$";
    const name = braced ?? bare ?? "";
    const value = vars[name];
    const empty = value === undefined || (op?.startsWith(":") === true && value === "");
    switch (op) {
      case ":-":
      case "-":
        return empty ? (arg ?? "") : (value ?? "");
      case ":?":
      case "?":
        if (empty) throw new Error(`compose: required variable ${name} is missing: ${arg ?? ""}`);
        return value ?? "";
      case ":+":
      case "+":
        return empty ? "" : (arg ?? "");
      default:
        return value ?? "";
    }
  });
}

function interpolateDeep(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === "string") return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, vars));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  }
  return value;
}

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: string[];
  container_name?: string;
  stop_grace_period?: string;
  profiles?: string[];
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
  command?: string[];
  entrypoint?: string[];
  cap_add?: string[];
  shm_size?: string;
  healthcheck?: { test?: string[] };
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function composeText(): string {
  return readRepoFile(COMPOSE_FILE);
}

/** The compose file as parsed (merge keys resolved), before substitution. */
export function rawCompose(): ComposeFile {
  return parse(composeText(), { merge: true }) as ComposeFile;
}

/** The compose file with every ${VAR} substituted from `vars` (the .env file). */
export function resolvedCompose(vars: Record<string, string>): ComposeFile {
  return interpolateDeep(rawCompose(), vars) as ComposeFile;
}

export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const at = item.indexOf("=");
        return at < 0 ? [item, ""] : [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? "" : String(v)]));
}

/** Docker duration ("15s", "1m30s") in milliseconds. */
export function durationMs(text: string): number {
  let total = 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.map((p) => p[0]).join("") !== text) throw new Error(`not a duration: ${text}`);
  for (const part of parts) total += Number(part[1]) * (units[part[2] ?? "s"] ?? 0);
  return total;
}
