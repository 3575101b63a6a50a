import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns";
import type { CallbackEvent, Tenant, TenantRegistry } from "@recfleet/config";
import { webhookIdOf } from "@recfleet/recordings";
import { nonPublicKind } from "@recfleet/runtime";
import { type Receiver, secretOf, startReceiver, startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classify } from "../src/callbacks/handler.ts";
import { retryAfterMs } from "../src/callbacks/post.ts";
import { checkTargetUrl, type Resolver } from "../src/callbacks/target.ts";

import { type MailerUnderTest, seedRecording, startMailer } from "./support.ts";

const SECRET = secretOf(5);

function registry(urls: Record<string, string>): TenantRegistry {
  const tenants: Tenant[] = Object.entries(urls).map(([name, url]) => ({
    name,
    keys: [],
    scopes: ["recordings:read"],
    recipientDomains: null,
    limits: { recordingsPerHour: null, emailsPerHour: null, concurrentRecordings: null },
    expireDays: null,
    callback: { url, secret: SECRET, events: ["recording.ready"] satisfies CallbackEvent[] },
    autoRecord: null,
  }));
  return { tenants, get: (name) => tenants.find((tenant) => tenant.name === name) };
}

// Names the tests point at addresses, as a DNS server would; every other name resolves as usual.
const NAMES: Record<string, string> = {
  "intranet.recfleet.test": "10.20.30.40",
  "mapped.recfleet.test": "::ffff:127.0.0.1",
};
const resolve: Resolver = (hostname, options, callback) => {
  const address = NAMES[hostname];
  if (address) return callback(null, [{ address, family: address.includes(":") ? 6 : 4 } as LookupAddress]);
  lookup(hostname, options, callback);
};

let redis: TestRedis;
let receiver: Receiver;
let redirected: Receiver;
let guarded: MailerUnderTest;
let open: MailerUnderTest;
let impatient: MailerUnderTest;
let patient: Receiver;
let gone: Receiver;
let down: Receiver;
beforeAll(async () => {
  // Asks for a pause with Retry-After once, then takes the event.
  patient = await startReceiver(SECRET, (_id, earlier) =>
    earlier === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 },
  );
  gone = await startReceiver(SECRET, () => ({ status: 410, body: "this endpoint is gone" }));
  down = await startReceiver(SECRET, () => ({ status: 503 }));
  redis = await startRedis();
  redirected = await startReceiver(SECRET);
  receiver = await startReceiver(SECRET, () => ({ status: 302, headers: { location: redirected.url } }));
  const port = receiver.port;
  guarded = await startMailer({
    redisUrl: redis.url,
    smtpPort: 9,
    tenants: registry({
      loopback: `http://127.0.0.1:${port}/hook`,
      localhost: `http://localhost:${port}/hook`,
      metadata: "http://169.254.169.254/latest/meta-data/",
      intranet: `http://intranet.recfleet.test:${port}/hook`,
      mapped: `http://mapped.recfleet.test:${port}/hook`,
      ipv6: `http://[::1]:${port}/hook`,
      scheme: "ftp://example.com/hook",
    }),
    callbacks: { allowPrivateTargets: false },
  });
  guarded.context.callbacks.resolve = resolve;
  // The operator allows private targets here: the receiver on loopback redirects.
  open = await startMailer({
    redisUrl: redis.url,
    smtpPort: 9,
    tenants: registry({ redirecting: receiver.url, patient: patient.url, gone: gone.url }),
  });
  impatient = await startMailer({
    redisUrl: redis.url,
    smtpPort: 9,
    tenants: registry({ down: down.url }),
    callbacks: { retryDelayMs: 20, retryWindowMs: 300 },
  });
});
afterAll(async () => {
  await Promise.all([guarded?.close(), open?.close(), impatient?.close()]);
  await Promise.all([receiver, redirected, patient, gone, down].map((server) => server?.close()));
  await redis?.stop();
});

async function deliverReady(mailer: MailerUnderTest, tenant: string) {
  const recording = await seedRecording(mailer.redis, mailer.prefix, { tenant, notify: null });
  const job = await mailer.producer.enqueue("callback", {
    recordingId: recording.id,
    event: "recording.ready",
    occurredAt: recording.updatedAt,
    resend: 0,
  });
  const finished = await mailer.finished(String(job.id));
  const delivery = await mailer.context.callbacks.deliveries.get(recording.id, "recording.ready");
  return { finished, delivery, recording };
}

describe("callback targets", () => {
  it.each([
    ["loopback", /127\.0\.0\.1 is a loopback address/],
    ["localhost", /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ["metadata", /169\.254\.169\.254 is a link-local \(cloud metadata\) address/],
    ["intranet", /intranet\.recfleet\.test resolves to 10\.20\.30\.40, a private address/],
    ["mapped", /mapped\.recfleet\.test resolves to ::ffff:127\.0\.0\.1, a loopback address/],
    ["ipv6", /::1 is a loopback address/],
    ["scheme", /only http and https callbacks are sent, not ftp:/],
  ])("refuse %s without contacting it, and give up at once", async (tenant, reason) => {
    const { finished, delivery } = await deliverReady(guarded, tenant);
    expect(finished.failedReason).toMatch(reason);
    expect(delivery).toMatchObject({ state: "failed", attemptCount: 1 });
    expect(delivery?.attempts[0]).toMatchObject({ outcome: "refused", statusCode: null });
    expect(delivery?.attempts[0]?.error).toMatch(reason);
    expect(receiver.calls).toEqual([]);
  });

  it("follow no redirect: a 3xx is given up and its Location never contacted", async () => {
    const { finished, delivery, recording } = await deliverReady(open, "redirecting");
    expect(finished.failedReason).toContain("redirects are not followed");
    expect(delivery?.attempts.map((attempt) => [attempt.outcome, attempt.statusCode])).toEqual([
      ["rejected", 302],
    ]);
    expect(receiver.calls.map((call) => call.webhookId)).toEqual([
      webhookIdOf(recording.id, "recording.ready"),
    ]);
    expect(redirected.calls).toEqual([]);
  });
});

describe("callback retries", () => {
  it("wait at least what Retry-After asks for", async () => {
    const { finished, delivery } = await deliverReady(open, "patient");
    expect(finished.returnvalue).toBe("delivered");
    expect(patient.calls.map((call) => call.answered)).toEqual([429, 200]);
    const [first, second] = patient.calls;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(delivery?.attempts.map((attempt) => attempt.outcome)).toEqual(["retryable", "delivered"]);
    expect(new Set(patient.calls.map((call) => call.webhookId)).size).toBe(1);
  });

  it("give up at once on a 4xx, noting the answer", async () => {
    const { finished, delivery } = await deliverReady(open, "gone");
    expect(finished.failedReason).toContain("answered 410: this endpoint is gone");
    expect(gone.calls).toHaveLength(1);
    expect(delivery).toMatchObject({ state: "failed", attemptCount: 1 });
  });

  it("give up once the retry window is spent", async () => {
    const { finished, delivery } = await deliverReady(impatient, "down");
    expect(finished.failedReason).toMatch(/not delivered within/);
    expect(down.calls.length).toBeGreaterThan(1);
    expect(delivery?.state).toBe("failed");
    expect(delivery?.attempts.at(-1)?.error).toMatch(/given up/);
    expect(delivery?.attempts.every((attempt) => attempt.outcome === "retryable")).toBe(true);
  });
});

describe("target address ranges", () => {
  it("tell public addresses from every special-purpose range", () => {
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "2a00:1450:4007:80e::200e"]) {
      expect(nonPublicKind(address), address).toBeUndefined();
    }
    expect(nonPublicKind("10.0.0.1")).toBe("private");
    expect(nonPublicKind("172.31.255.255")).toBe("private");
    expect(nonPublicKind("172.32.0.1")).toBeUndefined();
    expect(nonPublicKind("192.168.1.1")).toBe("private");
    expect(nonPublicKind("100.100.100.200")).toBe("shared (carrier-grade NAT)");
    expect(nonPublicKind("0.0.0.0")).toBe("unspecified");
    expect(nonPublicKind("fd00:ec2::254")).toBe("unique local (private)");
    expect(nonPublicKind("fe80::1")).toBe("link-local");
    expect(nonPublicKind("::ffff:10.1.2.3")).toBe("private");
    expect(nonPublicKind("::ffff:a9fe:a9fe")).toBe("link-local (cloud metadata)");
    expect(nonPublicKind("64:ff9b::7f00:1")).toBe("loopback");
    expect(nonPublicKind("2002:7f00:1::")).toBe("loopback");
  });

  it("read IP literals the way the URL parser normalises them", () => {
    // 2130706433 and 0x7f.1 are 127.0.0.1 to WHATWG URL, and so to the connection.
    for (const url of [
      "http://2130706433/",
      "http://0x7f.1/",
      "http://127.1/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      expect(() => checkTargetUrl(url, false), url).toThrow(/loopback/);
    }
    expect(() => checkTargetUrl("http://user:pw@example.com/", false)).toThrow(/credentials/);
    expect(checkTargetUrl("http://127.0.0.1:8080/", true).port).toBe("8080");
  });
});

describe("what a receiver's answer means", () => {
  it("retries network trouble, 408, 429 and 5xx, gives up on the rest", () => {
    const answered = (statusCode: number) =>
      classify({ kind: "answered", statusCode, retryAfterMs: null, excerpt: "" });
    expect([200, 204, 299].map((code) => answered(code).outcome)).toEqual([
      "delivered",
      "delivered",
      "delivered",
    ]);
    expect([408, 429, 500, 503].map((code) => answered(code).outcome)).toEqual([
      "retryable",
      "retryable",
      "retryable",
      "retryable",
    ]);
    expect([301, 400, 401, 404, 410, 422].map((code) => answered(code).outcome)).toEqual([
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
    ]);
    expect(classify({ kind: "network", reason: "ECONNRESET" }).outcome).toBe("retryable");
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});
