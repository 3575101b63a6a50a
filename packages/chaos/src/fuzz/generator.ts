import type { Random } from "../random.ts";
import type { RawRequest } from "./raw-http.ts";

/** What the fuzzer aims at: the API's address and key, and a recording whose routes exist. */
export interface FuzzTarget {
  /** `host:port`, as the Host header says it. */
  host: string;
  apiKey: string;
  dashboard: { user: string; password: string };
  victimId: string;
}

type HeaderValue = string | Buffer;

interface Parts {
  method?: string;
  target: string;
  version?: string;
  headers?: [string, HeaderValue][];
  body?: string | Buffer;
  /** Leave out the Host header. */
  noHost?: boolean;
  /** Leave out the valid API key. */
  noAuth?: boolean;
  /** Content-Length as given ("none" leaves it out); by default the body's length. */
  contentLength?: string;
  incomplete?: boolean;
  /** Send these bytes instead of a request built from the parts above. */
  raw?: Buffer;
}

/**
 * The client address each request claims (X-Forwarded-For, believed from a loopback proxy: the
 * chaos fleet sets API_TRUST_PROXY=loopback). The API blocks an address that fails to
 * authenticate too often, so the guessers speak from addresses of their own: their block must not
 * end the fuzzing of everything else, nor the normal recordings driven from 127.0.0.1.
 */
export const FUZZ_CLIENTS = {
  default: "203.0.113.10",
  guesser: "198.51.100.1",
  dashboard: "198.51.100.2",
} as const;

function clientOf(category: string): string {
  if (category === "wrong-auth" || category === "key-guess") return FUZZ_CLIENTS.guesser;
  return category === "dashboard" ? FUZZ_CLIENTS.dashboard : FUZZ_CLIENTS.default;
}

function build(target: FuzzTarget, parts: Parts, client: string): Buffer {
  const headers: [string, HeaderValue][] = [];
  if (!parts.noHost) headers.push(["Host", target.host]);
  if (!parts.noAuth) headers.push(["Authorization", `Bearer ${target.apiKey}`]);
  if (!parts.headers?.some(([name]) => name.toLowerCase() === "x-forwarded-for")) {
    headers.push(["X-Forwarded-For", client]);
  }
  headers.push(...(parts.headers ?? []));
  const body = parts.body === undefined ? undefined : Buffer.from(parts.body);
  if (parts.contentLength !== "none") {
    const declared = parts.contentLength ?? (body ? String(body.length) : undefined);
    if (declared !== undefined) headers.push(["Content-Length", declared]);
  }
  headers.push(["Connection", "close"]);
  const lines: Buffer[] = [
    Buffer.from(`${parts.method ?? "GET"} ${parts.target} ${parts.version ?? "HTTP/1.1"}\r\n`),
  ];
  for (const [name, value] of headers)
    lines.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from("\r\n"));
  lines.push(Buffer.from("\r\n"));
  if (body) lines.push(body);
  return Buffer.concat(lines);
}

const JSON_TYPE: [string, string] = ["Content-Type", "application/json"];

/** Strings that have broken something somewhere: control characters, surrogates, injections. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "nul\u0000inside",
  "\u0007bell",
  "line\nbreak",
  "\r\n",
  "\t",
  "\u007f",
  "\u0085",
  "\u2028\u2029",
  "\u202eevil-rtl",
  "\u200b",
  "\ufeffbom",
  "\ud83d",
  "\udc00alone",
  "💥🎥",
  "e\u0301\u0302\u0303\u0304\u0305\u0306",
  "𝕳𝖊𝖑𝖑𝖔",
  "x".repeat(257),
  "é".repeat(129),
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, meant literally
  "${jndi:ldap://example.invalid/a}",
  "{{7*7}}",
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "__proto__",
  "constructor",
  "null",
  "\\",
  '"',
];

function hostileString(random: Random): string {
  if (random.chance(0.7)) return random.pick(HOSTILE_STRINGS);
  // Random code points from every plane, surrogates and controls included.
  const length = random.int(1, 40);
  let text = "";
  for (let i = 0; i < length; i += 1) {
    const range = random.pick([
      [0, 0x1f],
      [0x20, 0x7e],
      [0x80, 0x9f],
      [0xa0, 0x2fff],
      [0xd800, 0xdfff],
      [0xe000, 0xffff],
      [0x10000, 0x10ffff],
    ] as const);
    text += String.fromCodePoint(random.int(range[0], range[1]));
  }
  return text;
}

function hostileValue(random: Random, depth = 0): unknown {
  const kind = random.int(0, depth > 2 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -0, 1, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 0.1 + 0.2]);
    case 3:
    case 4:
    case 5:
      return hostileString(random);
    case 6:
      return Array.from({ length: random.int(0, 4) }, () => hostileValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(0, 4); i > 0; i -= 1)
        object[hostileString(random)] = hostileValue(random, depth + 1);
      return object;
    }
  }
}

function uniqueRoom(random: Random): string {
  return `fuzz-${random.int(0, 0xffffff).toString(16)}`;
}

function validBody(random: Random): Record<string, unknown> {
  return {
    room: uniqueRoom(random),
    kind: random.pick(["video", "audio"]),
    profile: "low-cpu",
    notify: { email: "fuzz-owner@example.com" },
  };
}

function nested(depth: number, shape: "array" | "object"): string {
  return shape === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const FIELD_VALUES: Record<string, unknown[]> = {
  room: [123, null, [], {}, true, "", " ", "x".repeat(257), ["a"], { $ne: null }],
  kind: ["VIDEO", "mp4", "", 1, null, ["video"], "video ", "audio\u0000"],
  profile: ["", "nope", 1, null, "x".repeat(101), "../../config", "__proto__", "default "],
  layout: ["", "tiles", 3, null, "grid;rm -rf /"],
  notify: [
    "a@b.c",
    1,
    [],
    { email: 1 },
    { email: "not-an-email" },
    { email: "a@b.c", locale: "xx" },
    { email: "a@b.c", extra: 1 },
    { email: "a@b.c".repeat(100) },
    null,
  ],
  metadata: [[], "x", 1, true, { big: "x".repeat(5000) }, { a: [1, 2, { b: null }] }],
  encoding: [1, "fast", [], null, { width: "1280" }, { depth: 8 }, { videoCodec: "H264_HIGH" }],
  customBaseUrl: ["", 1, null, "javascript:alert(1)", "file:///etc/passwd", "https://evil.example/"],
  source: [
    "participant",
    { type: "participant" },
    { type: "participant", identity: "" },
    { type: "participant", identity: "a\u0000b" },
    { type: "participant", identity: "x".repeat(300) },
    { type: "participant", identity: "fuzz-guest", screenShare: "yes" },
    { type: "tracks" },
    { type: "tracks", audioTrackId: "TR a" },
    { type: "tracks", audioTrackId: "TR_fuzz", videoTrackId: "TR_fuzz2" },
    { type: "web", url: "http://169.254.169.254/" },
    { type: "room", layout: "grid" },
    { type: "__proto__" },
  ],
};

// Encoding override values at and around every documented rule and bound (ENCODING_MAX_* at
// their defaults in the chaos fleet), and template URLs a hostile consumer would try.
const ENCODING_VALUES: Record<string, unknown[]> = {
  width: [1280, 1920, 1922, 3840, 16, 14, 15, 1281, 0, -1280, 1280.5, 1e9, "1280", null],
  height: [720, 1080, 1920, 1922, 2160, 16, 8, 721, 0, -720, 720.5, "720", null],
  framerate: [15, 30, 31, 60, 61, 0, -1, 29.97, 1e6, "30", null],
  videoBitrate: [600, 6000, 6001, 1e9, 0, -1, 1.5, "600", null],
  audioBitrate: [64, 256, 257, 1e6, 0, -64, 64.5, "64", null],
  keyFrameInterval: [4, 0.5, 20, 20.01, 0, -4, 1e9, "4", null],
};
const TEMPLATE_URLS = [
  "https://templates.example/recording/",
  "http://127.0.0.1:6379/",
  "http://169.254.169.254/latest/meta-data/",
  "file:///etc/passwd",
  "javascript:alert(document.domain)",
  "data:text/html,<script>alert(1)</script>",
  "https://user:pw@templates.example/",
  `https://templates.example/${"a".repeat(2100)}`,
  "//templates.example/recording",
];

/** `guess`: a well-formed Bearer key that is wrong, which the API counts as a failed authentication. */
type Maker = (random: Random, target: FuzzTarget) => { label: string; parts: Parts; guess?: boolean };

const malformedJson = [
  "{",
  "}",
  '{"room":}',
  '{"room":"x",}',
  "{'room':'x'}",
  '{room:"x"}',
  '{"room":"x"}}',
  '{"room":NaN}',
  '{"room":Infinity}',
  '{"room":"x" /* comment */}',
  '\ufeff{"room":"x"}',
  '{"room":"\u0001"}',
  '{"room":"x"\u0000}',
  "null",
  "123",
  '"just a string"',
  "true",
  "[]",
  "[[[",
  "nul",
  '{"room":"\\x41"}',
  '{"room":"\\u12"}',
  `{"room":"${"\\".repeat(3)}"}`,
  "\u0000\u0000\u0000",
];

const MAKERS: { category: string; weight: number; make: Maker }[] = [
  {
    category: "bad-json",
    weight: 10,
    make: (random) => {
      let body: string | Buffer;
      const choice = random.int(0, 2);
      if (choice === 0) body = random.pick(malformedJson);
      else if (choice === 1) {
        const valid = JSON.stringify(validBody(random));
        body = valid.slice(0, random.int(1, valid.length - 1));
      } else body = Buffer.from(Array.from({ length: random.int(1, 200) }, () => random.int(0, 255)));
      return {
        label: `POST /v1/recordings ${JSON.stringify(body.toString("latin1").slice(0, 40))}`,
        parts: { method: "POST", target: "/v1/recordings", headers: [JSON_TYPE], body },
      };
    },
  },
  {
    category: "wrong-types",
    weight: 12,
    make: (random) => {
      const body = validBody(random);
      const changed: string[] = [];
      for (let i = random.int(1, 3); i > 0; i -= 1) {
        const field = random.pick(Object.keys(FIELD_VALUES));
        body[field] = random.chance(0.7) ? random.pick(FIELD_VALUES[field] ?? []) : hostileValue(random);
        changed.push(field);
      }
      return {
        label: `POST /v1/recordings with bad ${changed.join(", ")}`,
        parts: { method: "POST", target: "/v1/recordings", headers: [JSON_TYPE], body: JSON.stringify(body) },
      };
    },
  },
  {
    category: "hostile-fields",
    weight: 5,
    make: (random) => {
      const room = uniqueRoom(random);
      const bodies = [
        `{"room":"${room}","__proto__":{"admin":true}}`,
        `{"room":"${room}","constructor":{"prototype":{"admin":true}}}`,
        `{"room":"${room}","metadata":{"__proto__":{"polluted":true}}}`,
        `{"room":"a","room":"${room}"}`,
        `{"room":"${room}","kind":"video","kind":"audio"}`,
        `{"room":"${room}","${hostileString(random).replace(/["\\]/g, "")}":1}`,
        JSON.stringify({ ...validBody(random), [hostileString(random)]: hostileValue(random) }),
        JSON.stringify(hostileValue(random)),
      ];
      const body = random.pick(bodies);
      return {
        label: `POST /v1/recordings ${body.slice(0, 60)}`,
        parts: { method: "POST", target: "/v1/recordings", headers: [JSON_TYPE], body },
      };
    },
  },
  {
    category: "huge-body",
    weight: 2,
    make: (random, target) => {
      const size = random.pick([16_385, 65_536, 1024 * 1024 + 1, 4 * 1024 * 1024]);
      const route = random.pick([
        "/v1/recordings",
        `/v1/recordings/${target.victimId}/stop`,
        "/v1/webhooks/livekit",
      ]);
      const filler = "x".repeat(Math.max(0, size - 30));
      const body = `{"room":"big","metadata":{"f":"${filler}"}}`;
      const type = route.includes("webhooks") ? "application/webhook+json" : "application/json";
      return {
        label: `POST ${route.replace(target.victimId, "{victim}")} with ${body.length} bytes`,
        parts: { method: "POST", target: route, headers: [["Content-Type", type]], body },
      };
    },
  },
  {
    category: "huge-declared",
    weight: 2,
    make: (random) => {
      const declared = random.pick(["10737418240", "99999999999999999999", "16385", "1048577"]);
      return {
        label: `POST /v1/recordings declaring ${declared} bytes, sending 10`,
        parts: {
          method: "POST",
          target: "/v1/recordings",
          headers: [JSON_TYPE],
          body: '{"room":"x',
          contentLength: declared,
          incomplete: true,
        },
      };
    },
  },
  {
    category: "deep-nesting",
    weight: 5,
    make: (random, target) => {
      const depth = random.pick([64, 512, 2000, 5000, 8000, 100_000]);
      const shape = random.pick(["array", "object"] as const);
      const deep = nested(depth, shape);
      const where = random.int(0, 4);
      const route = where === 3 ? `/v1/recordings/${target.victimId}/stop` : "/v1/recordings";
      const body =
        where === 0
          ? deep
          : where === 1
            ? `{"room":"${uniqueRoom(random)}","metadata":{"deep":${deep}}}`
            : where === 2
              ? `{"room":"${uniqueRoom(random)}","notify":${deep}}`
              : where === 3
                ? `{"reason":${deep}}`
                : `{"room":${deep}}`;
      return {
        label: `POST ${route.replace(target.victimId, "{victim}")} ${shape} nested ${depth} deep (${where})`,
        parts: { method: "POST", target: route, headers: [JSON_TYPE], body },
      };
    },
  },
  {
    category: "unicode",
    weight: 8,
    make: (random) => {
      const room = hostileString(random);
      const where = random.int(0, 3);
      if (where === 0 || where === 1) {
        const body = JSON.stringify({
          ...validBody(random),
          room: where === 0 ? room : `${uniqueRoom(random)}-${room}`,
        });
        return {
          label: `POST /v1/recordings room ${JSON.stringify(room).slice(0, 40)}`,
          parts: { method: "POST", target: "/v1/recordings", headers: [JSON_TYPE], body },
        };
      }
      if (where === 2) {
        return {
          label: `GET /v1/recordings?room=${JSON.stringify(room).slice(0, 40)}`,
          parts: { target: `/v1/recordings?room=${encodeURIComponent(room.toWellFormed())}` },
        };
      }
      return {
        label: `POST /v1/recordings with raw UTF-8 in Idempotency-Key and X-Request-Id`,
        parts: {
          method: "POST",
          target: "/v1/recordings",
          headers: [
            JSON_TYPE,
            ["Idempotency-Key", Buffer.from(room.toWellFormed())],
            ["X-Request-Id", Buffer.from(room.toWellFormed())],
          ],
          body: JSON.stringify(validBody(random)),
        },
      };
    },
  },
  {
    category: "path-tricks",
    weight: 8,
    make: (random, target) => {
      const id = target.victimId;
      const path = random.pick([
        "/v1/recordings/..%2F..%2F..%2Fetc%2Fpasswd",
        "/v1/recordings/../../../etc/passwd",
        "/v1/recordings/%2e%2e/%2e%2e/",
        `/v1/recordings/${id}%00`,
        `/v1/recordings/${id}/`,
        `/v1/recordings/${id}/stop/../stop`,
        `/v1/recordings/${id.toUpperCase()}`,
        `/v1/recordings/${id};jsessionid=1`,
        "/v1/recordings/%",
        "/v1/recordings/%zz",
        "/v1/recordings/%E0%A4%A",
        "/v1/recordings/%C0%AE%C0%AE/",
        "/v1/recordings/%F0%9F%92%A5",
        `/v1/recordings/${"a".repeat(5000)}`,
        "//v1//recordings",
        "/v1/recordings/.",
        "/v1/recordings/~",
        "/V1/RECORDINGS",
        "/v1/recordings/null/stop",
        "/v1/recordings/undefined",
        "/v1/recordings/__proto__",
        "/v1/recordings/constructor/stop",
        "/v1/%2e%2e/openapi.json",
        "/admin/queues/../../v1/recordings",
        "/admin/queues/%2e%2e/%2e%2e/etc/passwd",
        "/metrics/..;/v1/recordings",
        "/v1/profiles/../recordings",
        "/v1/recordings?",
        "/v1/recordings#fragment",
        "/\\v1\\recordings",
        "/v1/recordings/\u0000",
      ]);
      const method = random.pick(["GET", "POST", "GET"]);
      return {
        label: `${method} ${path.replace(id, "{victim}").slice(0, 80)}`,
        parts: { method, target: path, ...(method === "POST" ? { headers: [JSON_TYPE], body: "{}" } : {}) },
      };
    },
  },
  {
    category: "query-abuse",
    weight: 5,
    make: (random) => {
      const query = random.pick([
        "limit=abc",
        "limit=0",
        "limit=-1",
        "limit=101",
        "limit=1e2",
        "limit=99999999999999999999",
        "limit=1&limit=2",
        "status=bogus",
        "status=queued&status=active",
        "cursor=garbage",
        `cursor=${Buffer.from("not-an-id").toString("base64url")}`,
        `cursor=${"A".repeat(500)}`,
        "room[$ne]=x",
        "room[]=a&room[]=b",
        "__proto__[admin]=1",
        "constructor[prototype][admin]=1",
        "a[b][c][d][e][f][g][h][i][j][k]=1",
        "unknown=1",
        `room=${"%".repeat(3)}`,
        "room=%E0%A4%A",
        `room=${"x".repeat(300)}`,
        "&&&&==&&",
        "%00=%00",
        `${"p=1&".repeat(1500)}`,
      ]);
      return {
        label: `GET /v1/recordings?${query.slice(0, 60)}`,
        parts: { target: `/v1/recordings?${query}` },
      };
    },
  },
  {
    category: "wrong-auth",
    weight: 8,
    make: (random, target) => {
      const route = random.pick([
        ["GET", "/v1/recordings"],
        ["POST", "/v1/recordings"],
        ["GET", `/v1/recordings/${target.victimId}`],
        ["POST", `/v1/recordings/${target.victimId}/stop`],
        ["GET", "/v1/profiles"],
      ] as const);
      const auth = random.pick<[string, HeaderValue][]>([
        [],
        [["Authorization", "Bearer"]],
        [["Authorization", "Bearer "]],
        [["Authorization", `Bearer ${target.apiKey.slice(0, -1)}`]],
        [["Authorization", `Bearer ${target.apiKey}x`]],
        [["Authorization", `Bearer ${target.apiKey} extra`]],
        [["Authorization", `Basic ${Buffer.from(`x:${target.apiKey}`).toString("base64")}`]],
        [["Authorization", `Token ${target.apiKey}`]],
        [["Authorization", target.apiKey]],
        [["Authorization", `Bearer ${"k".repeat(8000)}`]],
        [["Authorization", Buffer.from(`Bearer ${target.apiKey}\u00e9`, "utf8")]],
        [
          ["Authorization", "Bearer wrong"],
          ["Authorization", `Bearer ${target.apiKey}`],
        ],
        [["X-Api-Key", target.apiKey]],
        [["Cookie", `apiKey=${target.apiKey}`]],
      ]);
      const guess = auth.length === 1 && /^Bearer \S+$/.test(String(auth[0]?.[1]));
      return {
        guess,
        label: `${route[0]} ${route[1].replace(target.victimId, "{victim}")} auth ${auth.map(([name]) => name).join("+") || "none"}`,
        parts: {
          method: route[0],
          target: route[1],
          noAuth: true,
          headers: [...auth, ...(route[0] === "POST" ? [JSON_TYPE] : [])],
          ...(route[0] === "POST" ? { body: JSON.stringify(validBody(random)) } : {}),
        },
      };
    },
  },
  {
    category: "key-guess",
    weight: 4,
    make: (random) => {
      const key = Array.from({ length: 32 }, () => "0123456789abcdef"[random.int(0, 15)]).join("");
      const route = random.pick(["/v1/recordings", "/v1/profiles"]);
      return {
        guess: true,
        label: `GET ${route} with a guessed key`,
        parts: { method: "GET", target: route, noAuth: true, headers: [["Authorization", `Bearer ${key}`]] },
      };
    },
  },
  {
    category: "wrong-method",
    weight: 6,
    make: (random, target) => {
      const method = random.pick([
        "PUT",
        "DELETE",
        "PATCH",
        "OPTIONS",
        "HEAD",
        "TRACE",
        "PROPFIND",
        "LINK",
        "PURGE",
        "FOO",
        "M-SEARCH",
      ]);
      const route = random.pick([
        "/v1/recordings",
        `/v1/recordings/${target.victimId}`,
        `/v1/recordings/${target.victimId}/stop`,
        "/v1/profiles",
        "/v1/webhooks/livekit",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
      ]);
      return {
        label: `${method} ${route.replace(target.victimId, "{victim}")}`,
        parts: { method, target: route, headers: [JSON_TYPE], body: JSON.stringify(validBody(random)) },
      };
    },
  },
  {
    category: "content-type",
    weight: 6,
    make: (random, target) => {
      const headers = random.pick<[string, HeaderValue][]>([
        [["Content-Type", "text/plain"]],
        [["Content-Type", "application/x-www-form-urlencoded"]],
        [["Content-Type", "multipart/form-data; boundary=xyz"]],
        [["Content-Type", "application/json; charset=utf-16"]],
        [["Content-Type", "application/json; charset=latin1"]],
        [["Content-Type", "application/json; charset=bogus"]],
        [["Content-Type", "application/jsonx"]],
        [["Content-Type", "application/vnd.api+json"]],
        [["Content-Type", "application/xml"]],
        [["Content-Type", ""]],
        [["Content-Type", ";;;"]],
        [
          ["Content-Type", "application/json"],
          ["Content-Type", "text/plain"],
        ],
        [],
        [JSON_TYPE, ["Content-Encoding", "gzip"]],
        [JSON_TYPE, ["Content-Encoding", "deflate"]],
        [JSON_TYPE, ["Content-Encoding", "br"]],
        [JSON_TYPE, ["Content-Encoding", "bogus"]],
        [JSON_TYPE, ["Content-Encoding", "identity, gzip"]],
      ]);
      const route = random.pick(["/v1/recordings", `/v1/recordings/${target.victimId}/stop`]);
      const body = random.pick([
        JSON.stringify(validBody(random)),
        "room=x&kind=video",
        "<room>x</room>",
        "\u0000garbage",
      ]);
      return {
        label: `POST ${route.replace(target.victimId, "{victim}")} ${headers.map(([name, value]) => `${name}: ${value.toString()}`).join("; ") || "no type"}`,
        parts: { method: "POST", target: route, headers, body },
      };
    },
  },
  {
    category: "header-abuse",
    weight: 8,
    make: (random, target) => {
      const body = JSON.stringify(validBody(random));
      const cases: { label: string; parts: Parts }[] = [
        {
          label: "a 20 KiB header",
          parts: { target: "/v1/recordings", headers: [["X-Big", "x".repeat(20_000)]] },
        },
        {
          label: "3000 headers",
          parts: {
            target: "/v1/recordings",
            headers: Array.from({ length: 3000 }, (_, i): [string, string] => [`X-H${i}`, "v"]),
          },
        },
        {
          label: "X-Request-Id of 10,000 characters",
          parts: { target: "/v1/profiles", headers: [["X-Request-Id", "r".repeat(10_000)]] },
        },
        {
          label: "X-Request-Id with a CR LF inside",
          parts: { target: "/v1/profiles", headers: [["X-Request-Id", "abc\r\nSet-Cookie: evil=1"]] },
        },
        {
          label: "a NUL byte in a header value",
          parts: { target: "/v1/profiles", headers: [["X-Request-Id", Buffer.from([0x61, 0x00, 0x62])]] },
        },
        {
          label: "a header name with spaces",
          parts: { target: "/v1/profiles", headers: [["X Bad Name", "1"]] },
        },
        {
          label: "Idempotency-Key of 300 characters",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Idempotency-Key", "k".repeat(300)]],
            body,
          },
        },
        {
          label: "an empty Idempotency-Key",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Idempotency-Key", ""]],
            body,
          },
        },
        {
          label: "two Idempotency-Keys",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Idempotency-Key", "a"], ["Idempotency-Key", "b"]],
            body,
          },
        },
        {
          label: "two different Content-Lengths",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Content-Length", "5"]],
            body,
          },
        },
        {
          label: "Content-Length: -1",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE],
            body,
            contentLength: "-1",
          },
        },
        {
          label: "Content-Length: abc",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE],
            body,
            contentLength: "abc",
          },
        },
        {
          label: "Transfer-Encoding and Content-Length together",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Transfer-Encoding", "chunked"]],
            body: `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
          },
        },
        {
          label: "a malformed chunked body",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Transfer-Encoding", "chunked"]],
            body: "zz\r\nnot hex\r\n0\r\n\r\n",
            contentLength: "none",
          },
        },
        {
          label: "Transfer-Encoding: gzip, chunked",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Transfer-Encoding", "gzip, chunked"]],
            body: "5\r\nhello\r\n0\r\n\r\n",
            contentLength: "none",
          },
        },
        {
          label: "a body shorter than its Content-Length",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE],
            body: body.slice(0, 10),
            contentLength: String(body.length),
            incomplete: true,
          },
        },
        { label: "no Host header", parts: { target: "/v1/profiles", noHost: true } },
        { label: "two Host headers", parts: { target: "/v1/profiles", headers: [["Host", "evil.example"]] } },
        {
          label: "Host: evil.example",
          parts: { target: "/v1/profiles", noHost: true, headers: [["Host", "evil.example"]] },
        },
        {
          label: "X-Forwarded-Host and X-Forwarded-Proto",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["X-Forwarded-Host", "evil.example"], ["X-Forwarded-Proto", "gopher"]],
            body,
          },
        },
        {
          label: "Expect: 100-continue",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Expect", "100-continue"]],
            body,
          },
        },
        {
          label: "Expect: bogus",
          parts: {
            method: "POST",
            target: "/v1/recordings",
            headers: [JSON_TYPE, ["Expect", "bogus"]],
            body,
          },
        },
        {
          label: "Upgrade: websocket",
          parts: {
            target: "/v1/recordings",
            headers: [
              ["Upgrade", "websocket"],
              ["Connection", "Upgrade"],
            ],
          },
        },
        {
          label: "Range: bytes=0-10",
          parts: { target: "/openapi.json", headers: [["Range", "bytes=0-10,5-1"]] },
        },
        {
          label: "Accept: application/xml",
          parts: { target: "/v1/nope", headers: [["Accept", "application/xml"]] },
        },
        { label: "If-None-Match: *", parts: { target: "/v1/profiles", headers: [["If-None-Match", "*"]] } },
        { label: "HTTP/1.0", parts: { target: "/v1/profiles", version: "HTTP/1.0" } },
        { label: "HTTP/1.9", parts: { target: "/v1/profiles", version: "HTTP/1.9" } },
        { label: "HTTP/2.0 request line", parts: { target: "/v1/profiles", version: "HTTP/2.0" } },
        {
          label: "absolute-form target",
          parts: { target: `http://evil.example/v1/recordings/${target.victimId}` },
        },
        { label: "asterisk-form OPTIONS", parts: { method: "OPTIONS", target: "*" } },
        { label: "a target without a leading slash", parts: { target: "v1/profiles" } },
        { label: "a 20 KiB URL", parts: { target: `/v1/recordings?room=${"x".repeat(20_000)}` } },
        { label: "lower-case method", parts: { method: "get", target: "/v1/profiles" } },
        { label: "a space in the target", parts: { target: "/v1/recordings/ a b" } },
      ];
      const chosen = random.pick(cases);
      return { label: chosen.label, parts: chosen.parts };
    },
  },
  {
    category: "webhook",
    weight: 5,
    make: (random) => {
      const header = (payload: string) => Buffer.from(payload).toString("base64url");
      const forged = `${header('{"alg":"HS256","typ":"JWT"}')}.${header('{"iss":"sandbox-key","sha256":"x","exp":9999999999}')}.c2lnbmF0dXJl`;
      const none = `${header('{"alg":"none","typ":"JWT"}')}.${header('{"iss":"sandbox-key","video":{"roomAdmin":true}}')}.`;
      const auth = random.pick<[string, HeaderValue][]>([
        [],
        [["Authorization", "garbage"]],
        [["Authorization", forged]],
        [["Authorization", none]],
        [["Authorization", `Bearer ${forged}`]],
        [["Authorization", "a.b.c"]],
        [["Authorization", "x".repeat(9000)]],
      ]);
      const body = random.pick([
        '{"event":"egress_ended","id":"EV_1","egressInfo":{"egressId":"EG_x","status":"EGRESS_COMPLETE"}}',
        "{",
        "",
        JSON.stringify(hostileValue(random)),
        nested(5000, "array"),
      ]);
      const type = random.pick([
        "application/webhook+json",
        "application/json",
        "text/plain",
        "application/webhook+json; charset=utf-16",
      ]);
      return {
        label: `POST /v1/webhooks/livekit (${type}, auth ${auth.length ? "bad" : "none"}, ${body.slice(0, 30)})`,
        parts: {
          method: "POST",
          target: "/v1/webhooks/livekit",
          noAuth: true,
          headers: [["Content-Type", type], ...auth],
          body,
        },
      };
    },
  },
  {
    category: "dashboard",
    weight: 3,
    make: (random, target) => {
      const path = random.pick([
        "/admin/queues",
        "/admin/queues/",
        "/admin/queues/api/queues",
        "/admin/queues/api/queues/control/retry/failed",
        "/admin/queues/api/queues/control/clean/completed",
        "/admin/queues/static/../../../package.json",
        "/admin/queues/queue/control",
      ]);
      const auth = random.pick<[string, HeaderValue][]>([
        [],
        [["Authorization", `Basic ${Buffer.from(`${target.dashboard.user}:wrong`).toString("base64")}`]],
        [["Authorization", `Basic ${Buffer.from("admin").toString("base64")}`]],
        [["Authorization", "Basic !!!notbase64!!!"]],
        [["Authorization", `Basic ${"A".repeat(9000)}`]],
        [["Authorization", `Bearer ${target.apiKey}`]],
      ]);
      const method = random.pick(["GET", "PUT", "POST", "DELETE"]);
      return {
        label: `${method} ${path} with ${auth.length ? "bad" : "no"} credentials`,
        parts: { method, target: path, noAuth: true, headers: auth },
      };
    },
  },
  {
    category: "protocol",
    weight: 4,
    make: (random, target) => {
      // Some of these are not a whole request yet (a server rightly waits for the rest).
      const [raw, incomplete] = random.pick<[string, boolean]>([
        ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false],
        ["GET /v1/profiles\r\n\r\n", false],
        ["\r\n\r\n\r\n", true],
        ["GET\r\n\r\n", false],
        ["GET / HTTP/1.1\r\nHost: x\r\n", true],
        [
          `GET /v1/profiles HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Bearer ${target.apiKey}\r\n\r\nGET /v1/recordings/%zz HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`,
          false,
        ],
        [
          `POST /v1/recordings HTTP/1.1\r\nHost: ${target.host}\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
          false,
        ],
        [
          `GET /v1/profiles HTTP/1.1\r\nHost: ${target.host}\r\n Folded: header\r\nConnection: close\r\n\r\n`,
          false,
        ],
        [`GET /v1/profiles HTTP/1.1\nHost: ${target.host}\nConnection: close\n\n`, false],
        ["\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003", true],
      ]);
      const garbage = random.chance(0.2);
      const bytes = garbage
        ? Buffer.from(Array.from({ length: random.int(1, 300) }, () => random.int(0, 255)))
        : Buffer.from(raw, "latin1");
      return {
        label: `raw bytes ${JSON.stringify(bytes.toString("latin1").slice(0, 40))}`,
        parts: { target: "", raw: bytes, incomplete: garbage || incomplete },
      };
    },
  },
  {
    category: "encoding",
    weight: 8,
    make: (random) => {
      const body: Record<string, unknown> = { ...validBody(random) };
      const encoding: Record<string, unknown> = {};
      for (let i = random.int(1, 4); i > 0; i -= 1) {
        const field = random.pick(Object.keys(ENCODING_VALUES));
        encoding[field] = random.pick(ENCODING_VALUES[field] ?? []);
      }
      if (random.chance(0.1)) encoding[hostileString(random)] = hostileValue(random);
      body.encoding = encoding;
      if (random.chance(0.3)) body.customBaseUrl = random.pick(TEMPLATE_URLS);
      if (random.chance(0.2))
        body.layout = random.pick(["single-speaker-light", "single-speaker-dark", "single-speaker-x"]);
      const text = JSON.stringify(body);
      return {
        label: `POST /v1/recordings encoding ${JSON.stringify(encoding).slice(0, 80)}`,
        parts: { method: "POST", target: "/v1/recordings", headers: [JSON_TYPE], body: text },
      };
    },
  },
  {
    category: "stop-route",
    weight: 5,
    make: (random, target) => {
      const body = random.pick<string | undefined>([
        undefined,
        "{}",
        '{"reason":1}',
        '{"reason":""}',
        `{"reason":"${"r".repeat(201)}"}`,
        '{"reason":"line\\nbreak"}',
        '{"reason":"ok","extra":true}',
        "[]",
        "null",
        JSON.stringify({ reason: hostileString(random) }),
        JSON.stringify(hostileValue(random)),
      ]);
      const id = random.chance(0.8)
        ? target.victimId
        : random.pick(["0", "x", "00000000-0000-7000-8000-000000000000"]);
      return {
        label: `POST /v1/recordings/${id === target.victimId ? "{victim}" : id}/stop ${body?.slice(0, 40) ?? "(no body)"}`,
        parts: {
          method: "POST",
          target: `/v1/recordings/${id}/stop`,
          ...(body === undefined ? {} : { headers: [JSON_TYPE], body }),
        },
      };
    },
  },
];

const TOTAL_WEIGHT = MAKERS.reduce((sum, maker) => sum + maker.weight, 0);

/** The categories the generator draws from, for the report. */
export const FUZZ_CATEGORIES = MAKERS.map((maker) => maker.category);

/** The next hostile request: a category drawn by weight, then a case within it. */
export function nextRequest(random: Random, target: FuzzTarget): RawRequest {
  let draw = random.next() * TOTAL_WEIGHT;
  let maker = MAKERS[0];
  for (const candidate of MAKERS) {
    draw -= candidate.weight;
    maker = candidate;
    if (draw < 0) break;
  }
  if (!maker) throw new Error("no request makers");
  const { label, parts, guess } = maker.make(random, target);
  return {
    category: maker.category,
    label,
    ...(guess ? { guess: true } : {}),
    bytes: parts.raw ?? build(target, parts, clientOf(maker.category)),
    ...(parts.incomplete ? { incomplete: true } : {}),
  };
}

/** `count` requests from `seed`: the same seed gives the same requests, byte for byte. */
export function generateRequests(random: Random, target: FuzzTarget, count: number): RawRequest[] {
  return Array.from({ length: count }, () => nextRequest(random, target));
}
