import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTenants, parseApiKeyEntry } from "../src/index.ts";
import { problemsOf } from "./problems.ts";

const dir = mkdtempSync(join(tmpdir(), "recfleet-tenants-"));
let files = 0;
function file(text: string, extension = "yaml"): string {
  files += 1;
  const path = join(dir, `tenants-${files}.${extension}`);
  writeFileSync(path, text);
  return path;
}

const KEY = (name: string) => `${name}-key-0123456789abcdef`;

describe("API_KEYS entries", () => {
  it("name a tenant before '='; a bare key, or one whose prefix is no tenant name, is the default tenant's", () => {
    expect(parseApiKeyEntry("acme=abc")).toEqual({ tenant: "acme", key: "abc" });
    expect(parseApiKeyEntry("0123456789abcdef")).toEqual({ tenant: "default", key: "0123456789abcdef" });
    // base64 padding is not a tenant separator
    expect(parseApiKeyEntry("QUJDREVGR0hJSktMTU5PUA==")).toEqual({
      tenant: "default",
      key: "QUJDREVGR0hJSktMTU5PUA==",
    });
    expect(parseApiKeyEntry("default=a=b")).toEqual({ tenant: "default", key: "a=b" });
  });
});

describe("loadTenants", () => {
  it("merges API_KEYS and the tenants file: keys, scopes, domains and limits per tenant", () => {
    const path = file(
      [
        "tenants:",
        "  acme:",
        `    keys: [${KEY("acme-next")}]`,
        "    recipientDomains: [Acme.Example]",
        "    limits: { recordingsPerHour: 10, concurrentRecordings: 2 }",
        "    expireDays: 7",
        "  ops:",
        `    keys: [${KEY("ops")}]`,
        "    scopes: [admin]",
      ].join("\n"),
    );
    const registry = loadTenants({ apiKeys: [`acme=${KEY("acme")}`, KEY("plain")], file: path });
    expect(registry.tenants.map((tenant) => tenant.name).sort()).toEqual(["acme", "default", "ops"]);
    expect(registry.get("acme")).toEqual({
      name: "acme",
      keys: [KEY("acme-next"), KEY("acme")],
      scopes: ["recordings:read", "recordings:write"],
      recipientDomains: ["acme.example"],
      limits: { recordingsPerHour: 10, emailsPerHour: null, concurrentRecordings: 2 },
      expireDays: 7,
    });
    expect(registry.get("ops")?.scopes).toEqual(["admin"]);
    expect(registry.get("default")).toMatchObject({ keys: [KEY("plain")], recipientDomains: null });
  });

  it("reads JSON files too", () => {
    const path = file(JSON.stringify({ tenants: { globex: { keys: [KEY("globex")] } } }), "json");
    expect(loadTenants({ apiKeys: [], file: path }).get("globex")?.keys).toEqual([KEY("globex")]);
  });

  it("names the tenant and the field of every problem, and never a key", () => {
    const secret = "shared-secret-key-0123456789";
    const path = file(
      [
        "tenants:",
        "  acme:",
        `    keys: [${secret}, short]`,
        "    scopes: [recordings:delete]",
        "    recipientDomains: ['not a domain']",
        "    limits: { recordingsPerHour: 0, perDay: 5 }",
        "  globex:",
        `    keys: [${secret}]`,
        "  Bad Name:",
        `    keys: [${KEY("bad")}]`,
        "  lonely: {}",
      ].join("\n"),
    );
    const lines = problemsOf(() => loadTenants({ apiKeys: [], file: path }));
    expect(lines).toEqual(
      expect.arrayContaining([
        'config: TENANTS_FILE: tenant "acme": keys.1 must be at least 16 characters long',
        'config: TENANTS_FILE: tenant "acme": scopes.0 must be one of recordings:read, recordings:write, admin',
        'config: TENANTS_FILE: tenant "acme": recipientDomains.0 must be a domain name such as example.com',
        'config: TENANTS_FILE: tenant "acme": limits.recordingsPerHour must be a whole number from 1 to 1000000',
        expect.stringMatching(/^config: TENANTS_FILE: tenant "acme": limits Unrecognized key: "perDay"/),
        expect.stringMatching(
          /^config: TENANTS_FILE: tenant names are 1 to 63 lowercase letters.*"Bad Name" is not$/,
        ),
        'config: TENANTS_FILE: tenant "lonely": keys is empty and API_KEYS names no key of this tenant: nobody could call as it',
      ]),
    );
    expect(lines.join("\n")).not.toContain(secret);
  });

  it("refuses a key shared by two tenants", () => {
    const path = file(`tenants:\n  acme:\n    keys: [${KEY("same")}]\n`);
    expect(problemsOf(() => loadTenants({ apiKeys: [`globex=${KEY("same")}`], file: path }))).toEqual([
      'config: TENANTS_FILE: tenants "acme" and "globex" share a key: each key must belong to one tenant',
    ]);
  });

  it("says what is wrong with an unreadable, unparsable or mis-shaped file", () => {
    expect(problemsOf(() => loadTenants({ apiKeys: [], file: join(dir, "absent.yaml") }))).toEqual([
      `config: TENANTS_FILE: cannot read the file ${join(dir, "absent.yaml")} (ENOENT)`,
    ]);
    const broken = file("tenants: [", "yaml");
    expect(problemsOf(() => loadTenants({ apiKeys: [], file: broken }))[0]).toMatch(
      /^config: TENANTS_FILE: .* is not valid YAML: /,
    );
    const shape = file("- acme", "yaml");
    expect(problemsOf(() => loadTenants({ apiKeys: [], file: shape }))).toEqual([
      `config: TENANTS_FILE: ${shape} must hold a "tenants:" map of tenant names to their settings`,
    ]);
  });
});
