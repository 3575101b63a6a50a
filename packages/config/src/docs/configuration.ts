import { APP_SECTIONS } from "../apps.ts";
import { type Section, schema } from "../schema.ts";

interface SchemaLeaf {
  doc: string;
  env: string;
  default: unknown;
  format: unknown;
  sensitive?: boolean;
}

const SECTION_TITLES: Record<Section, string> = {
  redis: "Redis (queues and recording store)",
  livekit: "LiveKit Egress",
  storage: "Storage (S3 / MinIO)",
  smtp: "SMTP",
  api: "API",
  recorder: "Recorder",
  profiles: "Encoding profiles",
  encoding: "Encoding overrides per recording",
  streams: "Stream outputs (RTMP, SRT destinations)",
  recordings: "Recording store",
  tenants: "Tenants (API consumers)",
  autoRecord: "Auto-record rules",
  mailer: "Mailer",
  callbacks: "Callbacks (tenant webhooks, delivered by the mailer)",
  listener: "Storage listener",
  health: "Health and metrics endpoint of the workers",
  log: "Logging",
};

function defaultCell(leaf: SchemaLeaf): string {
  if ((leaf.format === "required-string" || leaf.format === "public-base-url") && leaf.default === "")
    return "**required**";
  if (leaf.sensitive && leaf.default !== "" && !(Array.isArray(leaf.default) && leaf.default.length === 0)) {
    return `\`${String(leaf.default).replace(/\/\/.*@/, "//…@")}\``;
  }
  if (Array.isArray(leaf.default))
    return leaf.default.length === 0 ? "(empty)" : `\`${leaf.default.join(",")}\``;
  if (leaf.default === "") return "(empty)";
  return `\`${String(leaf.default)}\``;
}

function allowedCell(leaf: SchemaLeaf): string {
  return Array.isArray(leaf.format)
    ? ` One of: ${leaf.format.map((value) => `\`${value}\``).join(", ")}.`
    : "";
}

/** docs/configuration.md, made from the schema. */
export function renderConfigurationDoc(): string {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from packages/config/src/schema.ts by `npm run docs`; a test fails when it is stale. -->",
    "",
    "Every setting is an environment variable. Secrets can also be read from a file: set `<VAR>_FILE`",
    "to its path (Docker and Kubernetes secrets). Each app reads only the sections it uses and stops",
    "at start with exit code 78 and one line per problem, naming the variable, when a value is wrong:",
    "",
    "```",
    "config: REDIS_URL: must be a redis:// or rediss:// URL",
    "config: LIVEKIT_API_SECRET: must be set",
    "```",
    "",
    "`--help` on an app lists the settings it reads, with their defaults (`node apps/<app>/dist/main.js",
    "--help` in the image; `node --conditions=@recfleet/source apps/<app>/src/main.ts --help` from the",
    "sources). `npm start` checks every app's settings before it starts anything.",
    "",
    "| app | sections |",
    "|---|---|",
    ...Object.entries(APP_SECTIONS).map(
      ([app, sections]) => `| ${app} | ${[...sections, "log"].join(", ")} |`,
    ),
    "",
  ];
  for (const section of Object.keys(schema) as Section[]) {
    lines.push(`## ${SECTION_TITLES[section]}`, "", "| variable | default | description |", "|---|---|---|");
    for (const leaf of Object.values(schema[section] as Record<string, SchemaLeaf>)) {
      const secret = leaf.sensitive ? ` Secret: never logged; also read from \`${leaf.env}_FILE\`.` : "";
      lines.push(`| \`${leaf.env}\` | ${defaultCell(leaf)} | ${leaf.doc}${allowedCell(leaf)}${secret} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
