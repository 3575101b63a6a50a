import { z } from "zod";
import { DEFAULT_TENANT, TENANT_NAME } from "./api-keys.ts";
import { ConfigError, type ConfigProblem } from "./load.ts";
import type { ProfileCatalog } from "./profiles/catalog.ts";
import { LAYOUTS } from "./schema.ts";
import { readSettingsFile } from "./settings-file.ts";
import { mayEmail, type Tenant, type TenantRegistry } from "./tenants.ts";

/**
 * Auto-record rules (AUTO_RECORD_FILE): rooms that record themselves. A rule matches rooms by a
 * name pattern and starts a recording on a LiveKit event — a room composite when the room starts,
 * one per participant when it joins, one per track when it is published — which ends with it
 * (room_finished, participant_left, track_unpublished). docs/api.md, "Auto-record rules".
 */

export const AUTO_RECORD_TRIGGERS = ["room_started", "participant_joined", "track_published"] as const;
export type AutoRecordTrigger = (typeof AUTO_RECORD_TRIGGERS)[number];

/** The event that ends what each trigger started. */
export const AUTO_RECORD_ENDS: Readonly<Record<AutoRecordTrigger, string>> = {
  room_started: "room_finished",
  participant_joined: "participant_left",
  track_published: "track_unpublished",
};

export const RULE_LOCALES = ["en", "fr"] as const;

export type RuleOutput =
  | { type: "file" }
  | { type: "hls"; segmentSeconds: number; livePlaylist: boolean }
  | { type: "images"; intervalSeconds: number; width: number | null; height: number | null };

export interface AutoRecordRule {
  /** Unique; part of every idempotency key the rule makes, and shown on its recordings (`<tenant>:<name>` for a tenant's own). */
  name: string;
  /** The room name pattern as written: `*` any run of characters, `?` one. */
  match: string;
  trigger: AutoRecordTrigger;
  /** Who owns its recordings: their API keys see them, their callbacks hear of them. */
  tenant: string;
  /** null for a track rule: the track's own kind. */
  kind: "video" | "audio" | null;
  /** A participant rule: its screen share rather than its camera. */
  screenShare: boolean;
  /** null: the default profile; always null for a track rule (no encoding). */
  profile: string | null;
  layout: (typeof LAYOUTS)[number] | null;
  /** null: one file of the kind. */
  outputs: RuleOutput[] | null;
  notify: { email: string; locale?: (typeof RULE_LOCALES)[number] } | null;
  metadata: Record<string, unknown> | null;
}

export interface AutoRecordRules {
  readonly rules: readonly AutoRecordRule[];
  /** The rules whose pattern matches a room name, in the file's order. */
  matching(room: string): AutoRecordRule[];
}

const whole = (min: number, max: number) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

const outputEntry = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("file") }),
    z.strictObject({
      type: z.literal("hls"),
      segmentSeconds: whole(1, 60).default(4),
      livePlaylist: z.boolean({ error: "must be true or false" }).default(false),
    }),
    z.strictObject({
      type: z.literal("images"),
      intervalSeconds: whole(1, 3600).default(10),
      width: whole(16, 7680).optional(),
      height: whole(16, 4320).optional(),
    }),
  ],
  // A stream key does not belong in a settings file many people read: no stream outputs here.
  { error: "must be file, hls or images (an object with that type)" },
);

const ruleEntry = z.strictObject({
  name: z
    .string({ error: "must be a string" })
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "must be 1 to 63 lowercase letters, digits and -" }),
  match: z
    .string({ error: "must be a string" })
    .min(1, { error: "must not be empty" })
    .max(256, { error: "must be at most 256 characters" }),
  trigger: z.enum(AUTO_RECORD_TRIGGERS, { error: `must be one of ${AUTO_RECORD_TRIGGERS.join(", ")}` }),
  tenant: z
    .string({ error: "must be a string" })
    .regex(TENANT_NAME, { error: "must be a tenant name" })
    .optional(),
  kind: z.enum(["video", "audio"], { error: "must be video or audio" }).optional(),
  screenShare: z.boolean({ error: "must be true or false" }).optional(),
  profile: z.string({ error: "must be a string" }).optional(),
  layout: z.enum(LAYOUTS, { error: `must be one of ${LAYOUTS.join(", ")}` }).optional(),
  outputs: z
    .array(outputEntry, { error: "must be a list of outputs" })
    .min(1, { error: "must name at least one output" })
    .optional(),
  notify: z
    .strictObject({
      email: z
        .email({ error: "must be an email address" })
        .max(254, { error: "must be at most 254 characters" }),
      locale: z.enum(RULE_LOCALES, { error: `must be one of ${RULE_LOCALES.join(", ")}` }).optional(),
    })
    .optional(),
  metadata: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }).optional(),
});
type RuleEntry = z.infer<typeof ruleEntry>;

const AUTO_RECORD_FILE = { env: "AUTO_RECORD_FILE", key: "autoRecord.file" } as const;
const TENANTS_FILE = { env: "TENANTS_FILE", key: "tenants.file" } as const;

/** A room name glob as a RegExp: `*` any run of characters, `?` one, everything else itself. */
export function globPattern(glob: string): RegExp {
  const body = [...glob]
    .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "su");
}

/** What a rule's trigger allows, as egress would take it; each problem names the field. */
function ruleProblems(
  entry: RuleEntry,
  profiles: ProfileCatalog,
  tenants: TenantRegistry | null,
): [string, string][] {
  const problems: [string, string][] = [];
  const { trigger } = entry;
  if (trigger !== "room_started" && entry.layout !== undefined) {
    problems.push(["layout", "applies to a room_started rule only (a room composite)"]);
  }
  if (trigger !== "participant_joined" && entry.screenShare !== undefined) {
    problems.push(["screenShare", "applies to a participant_joined rule only"]);
  }
  if (trigger === "participant_joined" && entry.kind === "audio") {
    problems.push(["kind", "must be video for a participant (egress records its camera and microphone)"]);
  }
  if (trigger === "track_published") {
    if (entry.kind !== undefined) problems.push(["kind", "is the track's own for a track_published rule"]);
    if (entry.profile !== undefined) {
      problems.push([
        "profile",
        "does not apply to a track_published rule: egress records the track without transcoding",
      ]);
    }
    if (entry.outputs?.some((output) => output.type !== "file")) {
      problems.push([
        "outputs",
        "of a track_published rule can only be a file: track egress writes one file",
      ]);
    }
  }
  if (entry.profile !== undefined && !profiles.get(entry.profile)) {
    problems.push(["profile", `must be one of ${profiles.names.join(", ")}`]);
  }
  const types = entry.outputs?.map((output) => output.type) ?? [];
  if (new Set(types).size !== types.length)
    problems.push(["outputs", "must name at most one output of each type"]);
  if (entry.kind === "audio" && types.includes("images")) {
    problems.push(["outputs", "has no place for images in an audio recording (egress: audio_only images)"]);
  }
  const tenant = entry.tenant ?? DEFAULT_TENANT;
  if (tenants && !tenants.get(tenant) && tenant !== DEFAULT_TENANT) {
    problems.push(["tenant", `names no tenant of TENANTS_FILE or API_KEYS ("${tenant}")`]);
  }
  return problems;
}

/** Where a list of rule entries comes from, for their problems and what they may do. */
interface RuleSource {
  setting: { env: string; key: string };
  /** "rule 2" for the file's, `tenant "acme": autoRecord.rules.2` for a tenant's. */
  label(index: number): string;
  /** A tenant's own rules: theirs, over their rooms, emailing their domains only. */
  tenant: Tenant | null;
}

function parseRules(
  values: readonly unknown[],
  source: RuleSource,
  options: { profiles: ProfileCatalog; tenants: TenantRegistry | null; checkOwners?: boolean },
  seen: Set<string>,
  rules: AutoRecordRule[],
  problems: ConfigProblem[],
): void {
  values.forEach((value, index) => {
    const parsed = ruleEntry.safeParse(value);
    const label = (name: string | undefined) => `${source.label(index)}${name ? ` ("${name}")` : ""}`;
    const problem = (rule: string, field: string, message: string) =>
      problems.push({ ...source.setting, message: `${rule}: ${field ? `${field} ` : ""}${message}` });
    if (!parsed.success) {
      const name = typeof value === "object" && value && "name" in value ? String(value.name) : undefined;
      for (const issue of parsed.error.issues) problem(label(name), issue.path.join("."), issue.message);
      return;
    }
    const entry = parsed.data;
    const owner = source.tenant;
    // A tenant's rules are named apart from the operator's and from each other tenant's.
    const name = owner ? `${owner.name}:${entry.name}` : entry.name;
    if (seen.has(name)) problem(label(entry.name), "name", "is used by an earlier rule");
    seen.add(name);
    const checkOwner = !owner && options.checkOwners !== false;
    const found = ruleProblems(entry, options.profiles, checkOwner ? options.tenants : null);
    if (owner) {
      if (entry.tenant !== undefined && entry.tenant !== owner.name) {
        found.push(["tenant", `must be left out, or be "${owner.name}": a tenant's rules are its own`]);
      }
      if (entry.notify && !mayEmail(owner, entry.notify.email)) {
        found.push(["notify.email", `must be an address at ${(owner.recipientDomains ?? []).join(", ")}`]);
      }
    }
    for (const [field, message] of found) problem(label(entry.name), field, message);
    if (found.length > 0) return;
    rules.push({
      name,
      // The prefix is literal (no * or ?): a tenant's patterns only ever see its own rooms.
      match: owner?.autoRecord ? `${owner.autoRecord.roomPrefix}${entry.match}` : entry.match,
      trigger: entry.trigger,
      tenant: owner?.name ?? entry.tenant ?? DEFAULT_TENANT,
      kind: entry.trigger === "track_published" ? null : (entry.kind ?? "video"),
      screenShare: entry.screenShare ?? false,
      profile: entry.profile ?? null,
      layout: entry.layout ?? null,
      outputs:
        entry.outputs?.map((output) =>
          output.type === "images"
            ? { ...output, width: output.width ?? null, height: output.height ?? null }
            : output,
        ) ?? null,
      notify: entry.notify ?? null,
      metadata: entry.metadata ?? null,
    });
  });
}

/**
 * Loads the auto-record rules: the operator's (AUTO_RECORD_FILE), then each tenant's own
 * (`autoRecord` in TENANTS_FILE, over the rooms under its `roomPrefix`). Throws ConfigError
 * listing every problem, each naming the rule and its field.
 */
export function loadAutoRecordRules(options: {
  file: string;
  profiles: ProfileCatalog;
  /** The tenants, with their own rules; null where the app does not load tenants. */
  tenants: TenantRegistry | null;
  /**
   * Whether an operator rule's tenant must be one of `tenants` (default true). The recorder reads
   * TENANTS_FILE without API_KEYS, so it leaves that check to the API, which has both.
   */
  checkOwners?: boolean;
}): AutoRecordRules {
  const rules: AutoRecordRule[] = [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  if (options.file !== "") {
    const holds = "list of rules";
    const read = readSettingsFile(options.file, AUTO_RECORD_FILE, "rules", holds);
    problems.push(...read.problems);
    const list = read.problems.length === 0 ? z.array(z.unknown()).safeParse(read.value) : undefined;
    if (list && !list.success) {
      problems.push({ ...AUTO_RECORD_FILE, message: `${options.file} must hold a "rules:" ${holds}` });
    }
    const source: RuleSource = {
      setting: AUTO_RECORD_FILE,
      label: (index) => `rule ${index + 1}`,
      tenant: null,
    };
    parseRules(list?.success ? list.data : [], source, options, seen, rules, problems);
  }
  for (const tenant of options.tenants?.tenants ?? []) {
    if (!tenant.autoRecord) continue;
    const source: RuleSource = {
      setting: TENANTS_FILE,
      label: (index) => `tenant "${tenant.name}": autoRecord.rules.${index}`,
      tenant,
    };
    parseRules(tenant.autoRecord.rules, source, options, seen, rules, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const compiled = rules.map((rule) => ({ rule, pattern: globPattern(rule.match) }));
  return {
    rules,
    matching: (room) => compiled.filter(({ pattern }) => pattern.test(room)).map(({ rule }) => rule),
  };
}
