import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CALLBACK_EVENTS, loadTenants, parseApiKeyEntry } from "../src/index.ts";
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
      callback: null,
      autoRecord: null,
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

  it("reads a callback endpoint, all events unless some are named, and checks it without echoing the secret", () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const path = file(
      [
        "tenants:",
        "  acme:",
        `    keys: [${KEY("acme")}]`,
        `    callback: { url: "https://hooks.acme.example/recfleet", secret: "${secret}" }`,
        "  globex:",
        `    keys: [${KEY("globex")}]`,
        `    callback: { url: "https://hooks.globex.example/", secret: "${secret}", events: [recording.ready] }`,
      ].join("\n"),
    );
    const registry = loadTenants({ apiKeys: [], file: path });
    expect(registry.get("acme")?.callback).toEqual({
      url: "https://hooks.acme.example/recfleet",
      secret,
      events: [...CALLBACK_EVENTS],
    });
    expect(registry.get("globex")?.callback?.events).toEqual(["recording.ready"]);

    const short = `whsec_${Buffer.alloc(8, 1).toString("base64")}`;
    const bad = file(
      [
        "tenants:",
        "  a:",
        `    keys: [${KEY("a")}]`,
        `    callback: { url: "ftp://hooks.example/", secret: "${short}" }`,
        "  b:",
        `    keys: [${KEY("b")}]`,
        `    callback: { url: "https://user:pw@hooks.example/#x", secret: "not-a-secret", events: [recording.paused] }`,
        "  c:",
        `    keys: [${KEY("c")}]`,
        `    callback: { secret: "${secret}", retries: 3 }`,
      ].join("\n"),
    );
    const lines = problemsOf(() => loadTenants({ apiKeys: [], file: bad }));
    const URL_RULE =
      "must be an http:// or https:// URL of at most 2048 characters, without credentials or fragment";
    const SECRET_RULE = "must be whsec_ followed by the base64 of 24 to 64 random bytes (Standard Webhooks)";
    expect(lines).toEqual(
      expect.arrayContaining([
        `config: TENANTS_FILE: tenant "a": callback.url ${URL_RULE}`,
        `config: TENANTS_FILE: tenant "a": callback.secret ${SECRET_RULE}`,
        `config: TENANTS_FILE: tenant "b": callback.url ${URL_RULE}`,
        `config: TENANTS_FILE: tenant "b": callback.secret ${SECRET_RULE}`,
        expect.stringMatching(
          /^config: TENANTS_FILE: tenant "b": callback.events.0 must be one of recording.started/,
        ),
        `config: TENANTS_FILE: tenant "c": callback.url ${URL_RULE}`,
        expect.stringMatching(/^config: TENANTS_FILE: tenant "c": callback Unrecognized key: "retries"/),
      ]),
    );
    expect(lines.join("\n")).not.toContain(short);
    expect(lines.join("\n")).not.toContain("not-a-secret");
  });

  it("reads only the file's settings for the mailer: no key needed", () => {
    const path = file(["tenants:", "  quiet: {}"].join("\n"));
    expect(loadTenants({ apiKeys: [], file: path, requireKeys: false }).get("quiet")?.callback).toBeNull();
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
