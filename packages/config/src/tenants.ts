import { z } from "zod";
import { MIN_KEY_LENGTH, parseApiKeyEntry, TENANT_NAME } from "./api-keys.ts";
import { ConfigError, type ConfigProblem } from "./load.ts";
import { readSettingsFile } from "./settings-file.ts";

/**
 * Tenants: the API consumers of one fleet. API_KEYS names their keys (`acme=<key>`; a bare key
 * belongs to `default`), TENANTS_FILE holds the rest. Every recording belongs to one tenant.
 */

export const SCOPES = ["recordings:read", "recordings:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];
export const DEFAULT_SCOPES: readonly Scope[] = ["recordings:read", "recordings:write"];

export interface TenantLimits {
  /** Recordings a tenant may create per hour (a fixed window); null: no limit. */
  recordingsPerHour: number | null;
  /** Recordings with an email recipient a tenant may create per hour (a fixed window); null: no limit. */
  emailsPerHour: number | null;
  /** Recordings a tenant may have in progress at once; null: no limit. */
  concurrentRecordings: number | null;
}

/** What a tenant's callback endpoint is told about its recordings (docs/api.md, Callbacks). */
export const CALLBACK_EVENTS = [
  "recording.started",
  "recording.stopped",
  "recording.ready",
  "recording.failed",
  "recording.cancelled",
  "recording.deleted",
  "recording.expired",
] as const;
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

export interface TenantCallback {
  /** Where events are POSTed; checked again against SSRF on every attempt. */
  url: string;
  /** Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random bytes. */
  secret: string;
  events: readonly CallbackEvent[];
}

export interface Tenant {
  name: string;
  /** Plain keys; the API keeps only their hashes. */
  keys: readonly string[];
  scopes: readonly Scope[];
  /** Domains recordings may email (subdomains included); null: any domain. */
  recipientDomains: readonly string[] | null;
  limits: TenantLimits;
  /** Days its recordings' files are kept once saved; null: RECORDINGS_EXPIRE_DAYS. */
  expireDays: number | null;
  /** Where its recordings' events are sent; null: nowhere. */
  callback: TenantCallback | null;
  /**
   * Its own auto-record rules, over the rooms whose names start with `roomPrefix` only (LiveKit's
   * rooms are every tenant's): checked by loadAutoRecordRules; null: none.
   */
  autoRecord: { roomPrefix: string; rules: readonly unknown[] } | null;
}

/** Whether a tenant may have recordings emailed to this address (its recipientDomains, subdomains included). */
export function mayEmail(tenant: Pick<Tenant, "recipientDomains">, email: string): boolean {
  const domains = tenant.recipientDomains;
  if (domains === null) return true;
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  return domains.some((allowed) => domain === allowed || domain.endsWith(`.${allowed}`));
}

export interface TenantRegistry {
  readonly tenants: readonly Tenant[];
  get(name: string): Tenant | undefined;
}

const NO_LIMITS: TenantLimits = { recordingsPerHour: null, emailsPerHour: null, concurrentRecordings: null };

const limit = z
  .number({ error: "must be a whole number from 1 to 1000000" })
  .int({ error: "must be a whole number from 1 to 1000000" })
  .min(1, { error: "must be a whole number from 1 to 1000000" })
  .max(1_000_000, { error: "must be a whole number from 1 to 1000000" });

// A DNS name as a mailbox domain may carry it (RFC 1035 labels, 253 characters at most).
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const CALLBACK_URL =
  "must be an http:// or https:// URL of at most 2048 characters, without credentials or fragment";

const callbackUrl = z.string({ error: CALLBACK_URL }).refine(
  (value) => {
    if (value.length > 2048 || !URL.canParse(value)) return false;
    const url = new URL(value);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      url.username === "" &&
      url.password === "" &&
      url.hash === "" &&
      !value.includes("#")
    );
  },
  { error: CALLBACK_URL },
);

const SECRET = "must be whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)";

const callbackSecret = z.string({ error: SECRET }).refine(
  (value) => {
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
    if (!match?.[1] || match[1].length % 4 !== 0) return false;
    const bytes = Buffer.from(match[1], "base64").length;
    return bytes >= 24 && bytes <= 64;
  },
  { error: SECRET },
);

const callbackEntry = z.strictObject({
  url: callbackUrl,
  secret: callbackSecret,
  events: z
    .array(z.enum(CALLBACK_EVENTS, { error: `must be one of ${CALLBACK_EVENTS.join(", ")}` }), {
      error: "must be a list of events",
    })
    .min(1, { error: "must name at least one event (leave it out for all)" })
    .optional(),
});

const tenantEntry = z.strictObject({
  keys: z
    .array(
      z
        .string({ error: "must be a string" })
        .min(MIN_KEY_LENGTH, { error: `must be at least ${MIN_KEY_LENGTH} characters long` })
        .regex(/^[\x21-\x7e]+$/, { error: "must be printable ASCII without spaces" }),
      { error: "must be a list of keys" },
    )
    .max(20, { error: "must list at most 20 keys" })
    .default([]),
  scopes: z
    .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(", ")}` }), { error: "must be a list" })
    .min(1, { error: "must name at least one scope" })
    .optional(),
  recipientDomains: z
    .array(
      z
        .string({ error: "must be a string" })
        .transform((domain) => domain.trim().toLowerCase())
        .refine((domain) => DOMAIN.test(domain), { error: "must be a domain name such as example.com" }),
      { error: "must be a list of domain names" },
    )
    .min(1, { error: "must name at least one domain (leave it out to allow any)" })
    .optional(),
  expireDays: z
    .number({ error: "must be a number of days from more than 0 to 3650" })
    .gt(0, { error: "must be a number of days from more than 0 to 3650" })
    .max(3650, { error: "must be a number of days from more than 0 to 3650" })
    .optional(),
  limits: z
    .strictObject({
      recordingsPerHour: limit.optional(),
      emailsPerHour: limit.optional(),
      concurrentRecordings: limit.optional(),
    })
    .optional(),
  callback: callbackEntry.optional(),
  autoRecord: z
    .strictObject({
      roomPrefix: z
        .string({ error: "must be a string" })
        .min(1, { error: "must not be empty: a tenant's rules see its own rooms only" })
        .max(128, { error: "must be at most 128 characters" })
        .regex(/^[^*?\p{Cc}]+$/u, { error: "must be printable text without * or ?" }),
      rules: z
        .array(z.unknown(), { error: "must be a list of rules" })
        .max(50, { error: "must list at most 50 rules" }),
    })
    .optional(),
});

const TENANTS_FILE = { env: "TENANTS_FILE", key: "tenants.file" } as const;

function readTenantsFile(path: string): { entries: Record<string, unknown>; problems: ConfigProblem[] } {
  const holds = "map of tenant names to their settings";
  const { value, problems } = readSettingsFile(path, TENANTS_FILE, "tenants", holds);
  if (problems.length > 0) return { entries: {}, problems };
  const shape = z.record(z.string(), z.unknown()).safeParse(value);
  if (!shape.success) {
    return {
      entries: {},
      problems: [{ ...TENANTS_FILE, message: `${path} must hold a "tenants:" ${holds}` }],
    };
  }
  return { entries: shape.data, problems: [] };
}

/**
 * Builds the tenants from API_KEYS entries and the tenants file. Throws ConfigError listing every
 * problem, each naming the tenant and the field; never a key.
 */
export function loadTenants(options: {
  apiKeys: readonly string[];
  file: string;
  /** False for apps that only read the file's other settings (the mailer's callbacks): no key check. */
  requireKeys?: boolean;
}): TenantRegistry {
  const problems: ConfigProblem[] = [];
  const tenants = new Map<string, Tenant>();
  const entryProblem = (name: string, field: string, message: string) =>
    problems.push({ ...TENANTS_FILE, message: `tenant "${name}": ${field ? `${field} ` : ""}${message}` });

  if (options.file !== "") {
    const { entries, problems: fileProblems } = readTenantsFile(options.file);
    problems.push(...fileProblems);
    for (const [name, value] of Object.entries(entries)) {
      if (!TENANT_NAME.test(name)) {
        problems.push({
          ...TENANTS_FILE,
          message: `tenant names are 1 to 63 lowercase letters, digits, - and _, starting with a letter or digit; "${name.slice(0, 64)}" is not`,
        });
        continue;
      }
      const parsed = tenantEntry.safeParse(value ?? {});
      if (!parsed.success) {
        for (const issue of parsed.error.issues) entryProblem(name, issue.path.join("."), issue.message);
        continue;
      }
      tenants.set(name, {
        name,
        keys: parsed.data.keys,
        scopes: parsed.data.scopes ?? DEFAULT_SCOPES,
        recipientDomains: parsed.data.recipientDomains ?? null,
        limits: { ...NO_LIMITS, ...parsed.data.limits },
        expireDays: parsed.data.expireDays ?? null,
        callback: parsed.data.callback
          ? { ...parsed.data.callback, events: parsed.data.callback.events ?? CALLBACK_EVENTS }
          : null,
        autoRecord: parsed.data.autoRecord ?? null,
      });
    }
  }

  for (const entry of options.apiKeys) {
    // Its length was checked with the rest of API_KEYS when the config was loaded.
    const { tenant: name, key } = parseApiKeyEntry(entry);
    const tenant = tenants.get(name);
    if (tenant) tenants.set(name, { ...tenant, keys: [...tenant.keys, key] });
    else {
      tenants.set(name, {
        name,
        keys: [key],
        scopes: DEFAULT_SCOPES,
        recipientDomains: null,
        limits: NO_LIMITS,
        expireDays: null,
        callback: null,
        autoRecord: null,
      });
    }
  }

  const owners = new Map<string, string>();
  for (const tenant of tenants.values()) {
    if (tenant.keys.length === 0 && options.requireKeys !== false) {
      entryProblem(
        tenant.name,
        "keys",
        "is empty and API_KEYS names no key of this tenant: nobody could call as it",
      );
    }
    for (const key of tenant.keys) {
      const owner = owners.get(key);
      if (owner !== undefined) {
        problems.push({
          ...(options.file === "" ? { env: "API_KEYS", key: "api.apiKeys" } : TENANTS_FILE),
          message:
            owner === tenant.name
              ? `tenant "${tenant.name}": the same key is listed twice`
              : `tenants "${owner}" and "${tenant.name}" share a key: each key must belong to one tenant`,
        });
      }
      owners.set(key, tenant.name);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const list = [...tenants.values()];
  return { tenants: list, get: (name) => tenants.get(name) };
}
