import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "@recfleet/config";
import type { Recording } from "@recfleet/recordings";
import { scaled } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptedRecordingProblems, tenantFileProblems } from "../src/fuzz/acceptance.ts";
import { FUZZ_CATEGORIES, type FuzzTarget, generateRequests } from "../src/fuzz/generator.ts";
import { sendRaw } from "../src/fuzz/raw-http.ts";
import { hostileTenantFiles, PLANTED_KEY } from "../src/fuzz/tenant-files.ts";
import { Random } from "../src/random.ts";

const target: FuzzTarget = {
  host: "127.0.0.1:1",
  apiKey: "fuzz-api-key-0123456789",
  dashboard: { user: "admin", password: "pw" },
  victimId: "01a20132-0000-7000-8000-00000000000a",
};

describe("the seeded random stream", () => {
  it("replays the same draws from the same seed, and forks independent streams", () => {
    const a = new Random(42);
    const b = new Random(42);
    const draws = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(draws);
    expect(new Random(43).next()).not.toBe(draws[0]);
    expect(new Random(42).fork("x").next()).toBe(new Random(42).fork("x").next());
    expect(new Random(42).fork("x").next()).not.toBe(new Random(42).fork("y").next());
    for (let i = 0; i < 1000; i += 1) {
      const n = a.int(3, 7);
      expect(n >= 3 && n <= 7).toBe(true);
    }
  });
});

describe("what the fuzz scenario checks", () => {
  const bounds = loadConfig(["encoding"], {}).encoding;
  const recording = (patch: Partial<Recording>) =>
    ({
      id: "r",
      kind: "video",
      source: { type: "room" },
      layout: "speaker",
      encoding: null,
      customBaseUrl: null,
      ...patch,
    }) as Recording;

  it("finds an accepted recording outside the documented rules and bounds", () => {
    expect(
      acceptedRecordingProblems(recording({ encoding: { width: 1280, audioBitrate: 64 } }), bounds),
    ).toEqual([]);
    expect(acceptedRecordingProblems(recording({ encoding: { width: 3840 } }), bounds)).toEqual([
      "recording r: encoding.width must be at most 1920 pixels on this service",
    ]);
    expect(acceptedRecordingProblems(recording({ encoding: { width: 1281 } }), bounds)).toHaveLength(1);
    expect(
      acceptedRecordingProblems(recording({ kind: "audio", encoding: { framerate: 15 } }), bounds),
    ).toEqual(["recording r: audio with encoding.framerate"]);
    expect(
      acceptedRecordingProblems(recording({ customBaseUrl: "https://evil.example/" }), bounds),
    ).toHaveLength(1);
    expect(acceptedRecordingProblems(recording({ layout: "tiles" }), bounds)).toEqual([
      "recording r: layout tiles",
    ]);
  });

  it("draws the same hostile tenant files from a seed, and loads each without a crash or an echoed key", () => {
    const files = hostileTenantFiles(new Random(5), 60);
    expect(hostileTenantFiles(new Random(5), 60)).toEqual(files);
    expect(files.some((file) => file.text.includes(PLANTED_KEY))).toBe(true);
    const result = tenantFileProblems(files);
    expect(result.problems).toEqual([]);
    expect(result.refused).toBeGreaterThan(50);
  });
});

describe("the hostile request generator", () => {
  it("gives the same requests, byte for byte, from the same seed", () => {
    const first = generateRequests(new Random(7), target, 300);
    const again = generateRequests(new Random(7), target, 300);
    expect(again.map((request) => request.bytes.toString("base64"))).toEqual(
      first.map((request) => request.bytes.toString("base64")),
    );
    const other = generateRequests(new Random(8), target, 300);
    expect(other.map((request) => request.label)).not.toEqual(first.map((request) => request.label));
  });

  it("draws from every category in a run of 2,000", () => {
    const categories = new Set(
      generateRequests(new Random(1), target, 2000).map((request) => request.category),
    );
    expect([...categories].sort()).toEqual([...FUZZ_CATEGORIES].sort());
  });
});

describe("the raw HTTP sender", () => {
  let port = 0;
  const seen: { method: string; url: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString() });
      // Answer late, as the API does after its Redis work: the client must still be there.
      setTimeout(() => {
        res.writeHead(req.url === "/teapot" ? 418 : 200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true }));
      }, 50);
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("reads a late answer to exactly the bytes it sent", async () => {
    const bytes = Buffer.from(
      `POST /teapot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    const answer = await sendRaw("127.0.0.1", port, { category: "t", label: "t", bytes }, scaled(5000));
    expect(answer.status).toBe(418);
    expect(JSON.parse(answer.body)).toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({ method: "POST", url: "/teapot", body: "{}" });
  });

  it("gives up on an incomplete request after its timeout without an answer", async () => {
    const bytes = Buffer.from("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort");
    const answer = await sendRaw(
      "127.0.0.1",
      port,
      { category: "t", label: "t", bytes, incomplete: true },
      300,
    );
    expect(answer).toMatchObject({ status: null, error: "timeout" });
  });

  it("reports a refused connection", async () => {
    const answer = await sendRaw(
      "127.0.0.1",
      1,
      { category: "t", label: "t", bytes: Buffer.from("GET / HTTP/1.1\r\n\r\n") },
      2000,
    );
    expect(answer).toMatchObject({ status: null, error: "ECONNREFUSED" });
  });
});
