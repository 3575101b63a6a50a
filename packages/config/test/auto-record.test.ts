import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { globPattern, loadAutoRecordRules, loadProfileCatalog, loadTenants } from "../src/index.ts";
import { problemsOf } from "./problems.ts";

const dir = mkdtempSync(join(tmpdir(), "recfleet-auto-record-"));
let files = 0;
function file(text: string, extension = "yaml"): string {
  files += 1;
  const path = join(dir, `rules-${files}.${extension}`);
  writeFileSync(path, text);
  return path;
}
const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });
const tenants = loadTenants({ apiKeys: ["acme=acme-key-0123456789abcdef"], file: "" });
const load = (path: string) => loadAutoRecordRules({ file: path, profiles, tenants });

describe("room name patterns", () => {
  it("match * as any run of characters and ? as one, everything else literally", () => {
    expect(globPattern("course-*").test("course-101")).toBe(true);
    expect(globPattern("course-*").test("my-course-101")).toBe(false);
    expect(globPattern("room-?").test("room-7")).toBe(true);
    expect(globPattern("room-?").test("room-77")).toBe(false);
    expect(globPattern("a.b+(c)").test("a.b+(c)")).toBe(true);
    expect(globPattern("a.b").test("axb")).toBe(false);
    expect(globPattern("*").test("réunion\nhebdo")).toBe(true);
  });
});

describe("loadAutoRecordRules", () => {
  it("reads rules with their defaults and matches rooms in the file's order", () => {
    const rules = load(
      file(
        [
          "rules:",
          "  - name: courses",
          '    match: "course-*"',
          "    trigger: room_started",
          "    tenant: acme",
          "    profile: balanced",
          "    layout: grid",
          "    outputs: [{ type: file }, { type: hls, segmentSeconds: 2 }]",
          "    notify: { email: teacher@school.example, locale: fr }",
          "  - name: everyone",
          '    match: "*"',
          "    trigger: participant_joined",
          "  - name: tracks",
          '    match: "course-*"',
          "    trigger: track_published",
        ].join("\n"),
      ),
    );
    expect(rules.rules[0]).toEqual({
      name: "courses",
      match: "course-*",
      trigger: "room_started",
      tenant: "acme",
      kind: "video",
      screenShare: false,
      profile: "balanced",
      layout: "grid",
      outputs: [{ type: "file" }, { type: "hls", segmentSeconds: 2, livePlaylist: false }],
      notify: { email: "teacher@school.example", locale: "fr" },
      metadata: null,
    });
    expect(rules.rules[2]).toMatchObject({
      trigger: "track_published",
      kind: null,
      profile: null,
      tenant: "default",
    });
    expect(rules.matching("course-7").map((rule) => rule.name)).toEqual(["courses", "everyone", "tracks"]);
    expect(rules.matching("standup").map((rule) => rule.name)).toEqual(["everyone"]);
    expect(loadAutoRecordRules({ file: "", profiles, tenants }).matching("anything")).toEqual([]);
  });

  it("names each problem with its rule and field, and what the trigger allows", () => {
    const path = file(
      [
        "rules:",
        "  - name: Bad Name",
        "    match: x",
        "    trigger: room_started",
        "  - name: tracks",
        "    match: x",
        "    trigger: track_published",
        "    profile: low-cpu",
        "    kind: audio",
        "    outputs: [{ type: hls }]",
        "  - name: people",
        "    match: x",
        "    trigger: participant_joined",
        "    kind: audio",
        "    layout: grid",
        "  - name: people",
        "    match: x",
        "    trigger: room_left",
        "  - name: rooms",
        "    match: x",
        "    trigger: room_started",
        "    tenant: nobody",
        "    profile: fancy",
        "    kind: audio",
        "    outputs: [{ type: images }, { type: images }]",
        "  - name: streams",
        "    match: x",
        "    trigger: room_started",
        "    outputs: [{ type: stream, urls: [rtmp://x/app/key] }]",
      ].join("\n"),
    );
    expect(problemsOf(() => load(path))).toEqual([
      'config: AUTO_RECORD_FILE: rule 1 ("Bad Name"): name must be 1 to 63 lowercase letters, digits and -',
      'config: AUTO_RECORD_FILE: rule 2 ("tracks"): kind is the track\'s own for a track_published rule',
      'config: AUTO_RECORD_FILE: rule 2 ("tracks"): profile does not apply to a track_published rule: egress records the track without transcoding',
      'config: AUTO_RECORD_FILE: rule 2 ("tracks"): outputs of a track_published rule can only be a file: track egress writes one file',
      'config: AUTO_RECORD_FILE: rule 3 ("people"): layout applies to a room_started rule only (a room composite)',
      'config: AUTO_RECORD_FILE: rule 3 ("people"): kind must be video for a participant (egress records its camera and microphone)',
      'config: AUTO_RECORD_FILE: rule 4 ("people"): trigger must be one of room_started, participant_joined, track_published',
      'config: AUTO_RECORD_FILE: rule 5 ("rooms"): profile must be one of default, balanced, low-cpu, slide-heavy, minimum-cpu, audio-heavy',
      'config: AUTO_RECORD_FILE: rule 5 ("rooms"): outputs must name at most one output of each type',
      'config: AUTO_RECORD_FILE: rule 5 ("rooms"): outputs has no place for images in an audio recording (egress: audio_only images)',
      'config: AUTO_RECORD_FILE: rule 5 ("rooms"): tenant names no tenant of TENANTS_FILE or API_KEYS ("nobody")',
      'config: AUTO_RECORD_FILE: rule 6 ("streams"): outputs.0.type must be file, hls or images (an object with that type)',
    ]);
  });

  it("says what is wrong with an unreadable or mis-shaped file, and refuses a repeated name", () => {
    expect(problemsOf(() => load(join(dir, "absent.json")))).toEqual([
      `config: AUTO_RECORD_FILE: cannot read the file ${join(dir, "absent.json")} (ENOENT)`,
    ]);
    const shape = file('{"rules": {"name": "x"}}', "json");
    expect(problemsOf(() => load(shape))).toEqual([
      `config: AUTO_RECORD_FILE: ${shape} must hold a "rules:" list of rules`,
    ]);
    const twice = file(
      [
        "rules:",
        "  - { name: a, match: x, trigger: room_started }",
        "  - { name: a, match: y, trigger: room_started }",
      ].join("\n"),
    );
    expect(problemsOf(() => load(twice))).toEqual([
      'config: AUTO_RECORD_FILE: rule 2 ("a"): name is used by an earlier rule',
    ]);
  });

  it("takes a tenant's own rules from TENANTS_FILE, over its rooms only, emailing its domains only", () => {
    const tenantsFile = file(
      [
        "tenants:",
        "  acme:",
        "    keys: [acme-key-0123456789abcdef]",
        "    recipientDomains: [acme.example]",
        "    autoRecord:",
        '      roomPrefix: "acme-"',
        "      rules:",
        '        - { name: everything, match: "*", trigger: room_started, notify: { email: boss@acme.example } }',
        "  globex:",
        "    keys: [globex-key-0123456789abcdef]",
        "    recipientDomains: [globex.example]",
        "    autoRecord:",
        '      roomPrefix: "globex-"',
        "      rules:",
        '        - { name: everything, match: "*", trigger: participant_joined }',
      ].join("\n"),
    );
    const registry = loadTenants({ apiKeys: [], file: tenantsFile });
    const rules = loadAutoRecordRules({ file: "", profiles, tenants: registry });
    expect(rules.rules.map((rule) => [rule.name, rule.tenant, rule.match])).toEqual([
      ["acme:everything", "acme", "acme-*"],
      ["globex:everything", "globex", "globex-*"],
    ]);
    expect(rules.matching("acme-weekly").map((rule) => rule.name)).toEqual(["acme:everything"]);
    expect(rules.matching("globex-weekly").map((rule) => rule.name)).toEqual(["globex:everything"]);
    // Neither sees the other's rooms, nor anyone else's.
    expect(rules.matching("initech-weekly")).toEqual([]);
    expect(rules.matching("xacme-weekly")).toEqual([]);

    const bad = file(
      [
        "tenants:",
        "  acme:",
        "    keys: [acme-key-0123456789abcdef]",
        "    recipientDomains: [acme.example]",
        "    autoRecord:",
        '      roomPrefix: "acme-"',
        "      rules:",
        '        - { name: spy, match: "*", trigger: room_started, tenant: globex, notify: { email: me@evil.example } }',
      ].join("\n"),
    );
    expect(
      problemsOf(() =>
        loadAutoRecordRules({ file: "", profiles, tenants: loadTenants({ apiKeys: [], file: bad }) }),
      ),
    ).toEqual([
      'config: TENANTS_FILE: tenant "acme": autoRecord.rules.0 ("spy"): tenant must be left out, or be "acme": a tenant\'s rules are its own',
      'config: TENANTS_FILE: tenant "acme": autoRecord.rules.0 ("spy"): notify.email must be an address at acme.example',
    ]);
    const wild = file(
      [
        "tenants:",
        "  acme:",
        "    keys: [acme-key-0123456789abcdef]",
        '    autoRecord: { roomPrefix: "*", rules: [] }',
      ].join("\n"),
    );
    expect(problemsOf(() => loadTenants({ apiKeys: [], file: wild }))).toEqual([
      'config: TENANTS_FILE: tenant "acme": autoRecord.roomPrefix must be printable text without * or ?',
    ]);
  });
});
