import type { Random } from "../random.ts";

/** A key planted in hostile files: no problem message may ever repeat it. */
export const PLANTED_KEY = "planted-tenant-key-do-not-echo-0123";
/** A well-formed signing secret planted the same way. */
export const PLANTED_SECRET = `whsec_${Buffer.alloc(32, 99).toString("base64")}`;

export interface TenantFile {
  label: string;
  extension: "yaml" | "json";
  text: string;
}

const HOSTILE_URLS = [
  "ftp://hooks.example/",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "http://user:pw@hooks.example/",
  "https://hooks.example/#frag",
  `https://hooks.example/${"a".repeat(2100)}`,
  "not a url",
  "",
  "http://",
  "https://hooks.example/\u0000",
];
const HOSTILE_SECRETS = [
  "",
  "whsec_",
  "whsec_short",
  `whsec_${Buffer.alloc(8, 1).toString("base64")}`,
  `whsec_${Buffer.alloc(80, 1).toString("base64")}`,
  PLANTED_KEY,
  "whsec_@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
];
const HOSTILE_VALUES: unknown[] = [null, 1, -1, 1e308, "x", [], {}, true, [[[]]], "__proto__"];

function tenantEntry(random: Random): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  const pick = <T>(values: readonly T[]) => random.pick(values as T[]);
  if (random.chance(0.8))
    entry.keys = random.chance(0.7)
      ? [PLANTED_KEY]
      : pick([[], ["short"], [1], "k", [PLANTED_KEY, PLANTED_KEY]]);
  if (random.chance(0.3)) entry.scopes = pick([["admin"], ["root"], [], "admin", [null]]);
  if (random.chance(0.3))
    entry.recipientDomains = pick([["example.com"], ["not a domain"], [], ["a".repeat(300)], [1]]);
  if (random.chance(0.3))
    entry.limits = pick([
      { recordingsPerHour: 0 },
      { emailsPerHour: 1.5 },
      { perDay: 3 },
      { concurrentRecordings: 1e7 },
      "many",
    ]);
  if (random.chance(0.3)) entry.expireDays = pick([0, -1, 3651, "7", 0.0001, null]);
  if (random.chance(0.7)) {
    const callback: Record<string, unknown> = {};
    if (random.chance(0.9)) callback.url = random.chance(0.7) ? pick(HOSTILE_URLS) : pick(HOSTILE_VALUES);
    if (random.chance(0.9)) callback.secret = random.chance(0.7) ? pick(HOSTILE_SECRETS) : PLANTED_SECRET;
    if (random.chance(0.3))
      callback.events = pick([["recording.paused"], [], "all", [1], ["recording.ready", "recording.ready"]]);
    if (random.chance(0.1)) callback.headers = { authorization: PLANTED_KEY };
    entry.callback = random.chance(0.1) ? pick(HOSTILE_VALUES) : callback;
  }
  if (random.chance(0.1)) entry[`x-${random.int(0, 99)}`] = pick(HOSTILE_VALUES);
  return entry;
}

function yamlOf(value: unknown, indent = ""): string {
  // JSON is YAML; written flow-style per tenant so that the YAML parser sees it too.
  return `${indent}${JSON.stringify(value)}`;
}

/** Hostile TENANTS_FILE contents, reproducible from the seed. */
export function hostileTenantFiles(random: Random, count: number): TenantFile[] {
  const files: TenantFile[] = [
    {
      label: "YAML alias bomb",
      extension: "yaml",
      text: [
        "a: &a [x, x, x, x, x, x, x, x, x]",
        ...Array.from(
          { length: 12 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
        ),
        "tenants: *m",
      ].join("\n"),
    },
    {
      label: "deep nesting",
      extension: "json",
      text: `{"tenants":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`,
    },
    { label: "not a map", extension: "yaml", text: "tenants: [acme, globex]" },
    { label: "binary", extension: "yaml", text: "\u0000\u0001\u0002tenants:\u0000" },
    {
      label: "prototype keys",
      extension: "json",
      text: `{"tenants":{"__proto__":{"keys":["${PLANTED_KEY}"]},"constructor":{"keys":["${PLANTED_KEY}x"]}}}`,
    },
    {
      label: "duplicate tenant",
      extension: "yaml",
      text: `tenants:\n  acme: {keys: [${PLANTED_KEY}]}\n  acme: {keys: [${PLANTED_KEY}y]}`,
    },
    {
      label: "huge name",
      extension: "json",
      text: JSON.stringify({ tenants: { ["t".repeat(10_000)]: { keys: [PLANTED_KEY] } } }),
    },
  ];
  while (files.length < count) {
    const tenants: Record<string, unknown> = {};
    for (let i = random.int(1, 3); i > 0; i -= 1) {
      const name = random.pick(["acme", "globex", "Bad Name", "", "a".repeat(64), "ok-1", "ünï", "../etc"]);
      tenants[name] = random.chance(0.05) ? random.pick(HOSTILE_VALUES) : tenantEntry(random);
    }
    const json = random.chance(0.5);
    files.push({
      label: `generated #${files.length}`,
      extension: json ? "json" : "yaml",
      text: json
        ? JSON.stringify({ tenants })
        : `tenants:\n${Object.entries(tenants)
            .map(([name, value]) => `  ${JSON.stringify(name)}: ${yamlOf(value)}`)
            .join("\n")}\n`,
    });
  }
  return files;
}
