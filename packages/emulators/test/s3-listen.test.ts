import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ListenerInfo, RequestLogEntry } from "../src/s3/index.ts";
import {
  type CollectedListener,
  collectNotifications,
  eventually,
  openRawListen,
  type RawStream,
  startTestS3,
  type TestS3,
} from "./s3-support.ts";

let s3: TestS3;
const listeners: CollectedListener[] = [];
const raws: RawStream[] = [];
let bucketCount = 0;

beforeAll(async () => {
  s3 = await startTestS3();
});

afterEach(() => {
  for (const listener of listeners.splice(0)) listener.stop();
  for (const raw of raws.splice(0)) raw.abort();
  s3.emulator.cutListeners("reset");
  // Each test starts from a well emulator, whatever ran before it (tests run shuffled too).
  s3.emulator.resetFaults();
});

afterAll(async () => {
  await s3?.close();
});

async function freshBucket(): Promise<string> {
  bucketCount += 1;
  const bucket = `listen-${bucketCount}`;
  await s3.client.makeBucket(bucket);
  return bucket;
}

async function listen(bucket: string, events = ["s3:ObjectCreated:*"], prefix = "", suffix = "") {
  const expected = s3.emulator.listeners().length + 1;
  const listener = collectNotifications(s3.client, bucket, events, prefix, suffix);
  listeners.push(listener);
  await s3.emulator.waitForListeners(expected);
  return listener;
}

async function rawListen(bucket: string, params: Record<string, string>) {
  const raw = await openRawListen(s3.client, bucket, params);
  raws.push(raw);
  return raw;
}

const keysOf = (listener: CollectedListener) => listener.records.map((record) => record.s3.object.key);

describe("ListenBucketNotification", () => {
  it("sends MinIO's record for a put, with the key raw (not URL-encoded)", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    const key = "recordings/ünï code+x (1).mp4";
    const body = Buffer.from("mp4 bytes");
    const { etag } = await s3.client.putObject(bucket, key, body, body.length, {
      "Content-Type": "video/mp4",
      "X-Amz-Meta-Room": "r1",
    });
    const record = await eventually(() => listener.records[0], 5000, "the put event");
    expect(record).toMatchObject({
      eventVersion: "2.0",
      eventSource: "minio:s3",
      awsRegion: "",
      eventName: "s3:ObjectCreated:Put",
      userIdentity: { principalId: s3.emulator.accessKey },
      requestParameters: { principalId: s3.emulator.accessKey, region: "", sourceIPAddress: "127.0.0.1" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "Config",
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: s3.emulator.accessKey },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: {
          key,
          size: body.length,
          eTag: etag,
          contentType: "video/mp4",
          userMetadata: { "content-type": "video/mp4", "X-Amz-Meta-Room": "r1" },
        },
      },
      source: { host: "127.0.0.1", port: "" },
    });
    expect(Object.keys(record.responseElements as object)).toEqual([
      "x-amz-id-2",
      "x-amz-request-id",
      "x-minio-deployment-id",
      "x-minio-origin-endpoint",
    ]);
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]+$/);
    expect(new Date(record.eventTime as string).toISOString()).toBe(record.eventTime);
    expect(listener.errors).toEqual([]);
  });

  it("writes one JSON line per event, escaped like Go's encoder", async () => {
    const bucket = await freshBucket();
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    expect(raw.status).toBe(200);
    expect(raw.contentType).toBe("text/event-stream");
    await s3.emulator.waitForListeners(1);
    await s3.client.putObject(bucket, "raw/a<b>&c d.mp4", "x");
    const line = await eventually(
      () =>
        raw
          .text()
          .split("\n")
          .find((text) => text.includes("Records")),
      5000,
    );
    expect(line.trim()).toMatch(/^\{"Records":\[\{"eventVersion":"2\.0",.*\}\]\}$/);
    expect(line).toContain('"key":"raw/a\\u003cb\\u003e\\u0026c d.mp4"');
    expect(JSON.parse(line).Records[0].s3.object.key).toBe("raw/a<b>&c d.mp4");
  });

  it("delivers only keys matching the prefix and suffix filters", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket, ["s3:ObjectCreated:*"], "recordings/", ".mp4");
    for (const key of ["other/a.mp4", "recordings/a.ogg", "recordings/b.mp4"]) {
      await s3.client.putObject(bucket, key, key);
    }
    await eventually(() => (listener.records.length > 0 ? true : undefined), 5000, "the matching event");
    // Events arrive in order on one stream: the two before it were filtered out, not late.
    expect(keysOf(listener)).toEqual(["recordings/b.mp4"]);
  });

  it("filters by event name: a creation listener does not see deletions", async () => {
    const bucket = await freshBucket();
    const created = await listen(bucket, ["s3:ObjectCreated:Put"]);
    const removed = await listen(bucket, ["s3:ObjectRemoved:*"]);
    await s3.client.putObject(bucket, "a.mp4", "x");
    await s3.client.removeObject(bucket, "a.mp4");
    await s3.client.putObject(bucket, "b.mp4", "x");
    await eventually(() => (created.records.length === 2 ? true : undefined), 5000, "two creations");
    await eventually(() => removed.records[0], 5000, "the removal");
    expect(created.records.map((record) => record.eventName)).toEqual([
      "s3:ObjectCreated:Put",
      "s3:ObjectCreated:Put",
    ]);
    expect(removed.records).toHaveLength(1);
    expect(removed.records[0]?.eventName).toBe("s3:ObjectRemoved:Delete");
    expect(removed.records[0]?.s3.object).toEqual({ key: "a.mp4", sequencer: expect.any(String) });
  });

  it("reports every key of a DeleteObjects as deleted, there or not, and a lone missing delete as NoOP", async () => {
    const bucket = await freshBucket();
    const removed = await listen(bucket, ["s3:ObjectRemoved:*"]);
    await s3.client.putObject(bucket, "here.mp4", "x");
    await s3.client.removeObjects(bucket, ["here.mp4", "never-there.mp4"]);
    await s3.client.removeObject(bucket, "also-never-there.mp4");
    await eventually(() => (removed.records.length === 3 ? true : undefined), 5000, "three removals");
    expect(removed.records.map((record) => [record.eventName, record.s3.object.key])).toEqual([
      ["s3:ObjectRemoved:Delete", "here.mp4"],
      ["s3:ObjectRemoved:Delete", "never-there.mp4"],
      ["s3:ObjectRemoved:NoOP", "also-never-there.mp4"],
    ]);
  });

  it("gives each write a distinct, increasing nanosecond sequencer, even within one millisecond", async () => {
    const bucket = await freshBucket();
    const created = await listen(bucket);
    await Promise.all(Array.from({ length: 20 }, (_, i) => s3.client.putObject(bucket, `s-${i}.mp4`, "x")));
    await eventually(() => (created.records.length === 20 ? true : undefined), 5000, "twenty creations");
    const sequencers = created.records.map((record) => BigInt(`0x${record.s3.object.sequencer}`));
    expect(new Set(sequencers).size).toBe(20);
    // Nanoseconds since the epoch: about 1.8e18 in 2026, not milliseconds × 10^6 rounded.
    const now = BigInt(Date.now()) * 1_000_000n;
    for (const value of sequencers)
      expect(now - value < 60_000_000_000n && value <= now + 1_000_000n).toBe(true);
  });

  it("fans every event out to every connected listener", async () => {
    const bucket = await freshBucket();
    const first = await listen(bucket);
    const second = await listen(bucket);
    await s3.client.putObject(bucket, "shared.mp4", "x");
    await eventually(() => (first.records.length && second.records.length ? true : undefined), 5000, "both");
    expect(keysOf(first)).toEqual(["shared.mp4"]);
    expect(keysOf(second)).toEqual(["shared.mp4"]);
  });

  it("loses events that happen while nobody listens: no replay on connect", async () => {
    const bucket = await freshBucket();
    await s3.client.putObject(bucket, "before.mp4", "x");
    const listener = await listen(bucket);
    await s3.client.putObject(bucket, "after.mp4", "x");
    await eventually(() => listener.records[0], 5000, "the event after connecting");
    expect(keysOf(listener)).toEqual(["after.mp4"]);
  });

  it("reports a multipart upload as s3:ObjectCreated:CompleteMultipartUpload", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    const client = s3.clientWith({ partSize: 5 * 1024 * 1024 });
    const body = randomBytes(6 * 1024 * 1024);
    const { etag } = await client.putObject(bucket, "recordings/long.mp4", body, body.length, {
      "Content-Type": "video/mp4",
    });
    const record = await eventually(() => listener.records[0], 5000, "the completion event");
    expect(record.eventName).toBe("s3:ObjectCreated:CompleteMultipartUpload");
    expect(record.s3.object).toMatchObject({
      key: "recordings/long.mp4",
      size: body.length,
      eTag: etag,
      contentType: "video/mp4",
    });
    expect(etag).toMatch(/-\d+$/);
  });

  it("listens to every bucket on GET /?events=…, bucket creations included", async () => {
    const response = await s3.client.makeRequestAsync(
      { method: "GET", query: "events=s3%3ABucketCreated%3A%2A&events=s3%3AObjectCreated%3A%2A" },
      "",
      [200],
      "us-east-1",
    );
    const lines: string[] = [];
    response.on("data", (chunk: Buffer) =>
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((line) => line.trim()),
      ),
    );
    await s3.emulator.waitForListeners(1);
    const bucket = await freshBucket();
    await s3.client.putObject(bucket, "anywhere.mp4", "x");
    await eventually(() => (lines.length === 2 ? true : undefined), 5000, "two events");
    const records = lines.map((line) => JSON.parse(line).Records[0]);
    expect(records.map((record) => [record.eventName, record.s3.bucket.name, record.s3.object.key])).toEqual([
      ["s3:BucketCreated:*", bucket, ""],
      ["s3:ObjectCreated:Put", bucket, "anywhere.mp4"],
    ]);
    response.destroy();
  });

  it("keeps an idle stream alive with a single space every 500 ms when no ping is asked", async () => {
    const bucket = await freshBucket();
    const asked = Date.now();
    // The head comes with the first keep-alive, as MinIO's does, not before it.
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(350);
    await eventually(() => (raw.text().length >= 1 ? true : undefined), 3000, "a keep-alive");
    const first = Date.now();
    await eventually(() => (raw.text().length >= 2 ? true : undefined), 3000, "a second keep-alive");
    const second = Date.now();
    expect(raw.text()).toBe("  ");
    expect(second - first).toBeGreaterThanOrEqual(350);
  });

  it('sends {"Records":null} every ping seconds instead when ping=N is asked', async () => {
    const bucket = await freshBucket();
    const started = Date.now();
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*", ping: "1" });
    await eventually(() => (raw.text().length > 0 ? true : undefined), 3000, "a ping line");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(raw.text()).toBe('{"Records":null}\n');
  });

  it("answers a GET without events as a listing, and refuses bad listen parameters", async () => {
    const bucket = await freshBucket();
    const listing = await fetch(
      await s3.client.presignedUrl("GET", bucket, "", 60, { prefix: "a", suffix: "b" }),
    );
    expect(await listing.text()).toContain("<ListBucketResult");
    const unknownEvent = await fetch(
      await s3.client.presignedUrl("GET", bucket, "", 60, { events: "s3:Nope" }),
    );
    expect(unknownEvent.status).toBe(400);
    expect(await unknownEvent.text()).toContain(
      "<Message>A specified event is not supported for notifications.",
    );
    const badPing = await fetch(
      await s3.client.presignedUrl("GET", bucket, "", 60, { events: "s3:ObjectCreated:*", ping: "0" }),
    );
    expect(badPing.status).toBe(400);
    const noBucket = await fetch(
      await s3.client.presignedUrl("GET", "no-such-bucket", "", 60, { events: "s3:ObjectCreated:*" }),
    );
    expect(noBucket.status).toBe(404);
    expect(s3.emulator.listeners()).toEqual([]);
  });

  it("refuses a listen request signed with a wrong secret", async () => {
    const bucket = await freshBucket();
    const intruder = s3.clientWith({ secretKey: "wrong-secret-key" });
    const response = await fetch(
      await intruder.presignedUrl("GET", bucket, "", 60, { events: "s3:ObjectCreated:*" }),
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });
});

describe("fault knobs", () => {
  it("cuts every listen connection: minio-js sees an error, a raw reader a broken stream", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    await s3.emulator.waitForListeners(2);
    expect(s3.emulator.cutListeners()).toBe(2);
    expect(await raw.ended).toBe("error");
    await eventually(() => listener.errors[0], 5000, "the client's error");
    expect(s3.emulator.listeners()).toEqual([]);
  });

  it("can instead end the streams cleanly", async () => {
    const bucket = await freshBucket();
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    await s3.emulator.waitForListeners(1);
    expect(s3.emulator.cutListeners("end")).toBe(1);
    expect(await raw.ended).toBe("end");
  });

  it("reproduces both outcomes of a clean end for minio-js: reconnect, or fail on leftover keep-alives", async () => {
    const bucket = await freshBucket();
    const fresh = await listen(bucket);
    s3.emulator.cutListeners("end");
    // Nothing was sent yet: the client takes the end as normal and asks again.
    await s3.emulator.waitForListeners(1);
    expect(fresh.errors).toEqual([]);
    fresh.stop();
    s3.emulator.cutListeners("reset");
    await eventually(() => fresh.errors[0], 5000, "the stopped listener's error");

    const idle = await listen(bucket);
    await new Promise((resolve) => setTimeout(resolve, 700));
    s3.emulator.cutListeners("end");
    const error = await eventually(() => idle.errors[0], 5000, "the parser's error");
    expect(error.message).toMatch(/JSON/);
  });

  it("drops events at the configured rate", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    s3.emulator.setDropRate(1);
    await s3.client.putObject(bucket, "dropped.mp4", "x");
    s3.emulator.setDropRate(0);
    await s3.client.putObject(bucket, "kept.mp4", "x");
    await eventually(() => listener.records[0], 5000, "the kept event");
    expect(keysOf(listener)).toEqual(["kept.mp4"]);
    expect(s3.emulator.listeners()[0]).toMatchObject({ delivered: 1, dropped: 1 });
    expect(() => s3.emulator.setDropRate(1.5)).toThrow(/dropEvents/);
  });

  it("drops a fraction of events as the same even pattern on every run", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    s3.emulator.setDropRate(0.3);
    for (let i = 1; i <= 10; i += 1)
      await s3.client.putObject(bucket, `f${String(i).padStart(2, "0")}.mp4`, "x");
    s3.emulator.setDropRate(0);
    await s3.client.putObject(bucket, "last.mp4", "x");
    await eventually(
      () => listener.records.find((record) => record.s3.object.key === "last.mp4"),
      5000,
      "the last event",
    );
    expect(keysOf(listener)).toEqual([
      "f01.mp4",
      "f02.mp4",
      "f03.mp4",
      "f05.mp4",
      "f06.mp4",
      "f08.mp4",
      "f09.mp4",
      "last.mp4",
    ]);
  });

  it("answers 503 SlowDown to every S3 request for the given time", async () => {
    const bucket = await freshBucket();
    await s3.client.putObject(bucket, "a.txt", "x");
    const url = await s3.client.presignedGetObject(bucket, "a.txt", 60);
    s3.emulator.failFor(10_000);
    const before = s3.emulator.requests().at(-1)?.seq ?? 0;
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("120");
    expect(await response.text()).toContain("<Code>SlowDown</Code>");
    await expect(s3.client.statObject(bucket, "a.txt")).rejects.toThrow(/503/);
    const statuses = s3.emulator.requests(before).map((request) => [request.operation, request.status]);
    // minio-js retries a 503 once before giving up.
    expect(statuses).toEqual([
      ["GetObject", 503],
      ["HeadObject", 503],
      ["HeadObject", 503],
    ]);
    s3.emulator.failFor(0);
    expect((await fetch(url)).status).toBe(200);
  });

  it("answers ServiceUnavailable when told so, and stops by itself when the time is up", async () => {
    const bucket = await freshBucket();
    await s3.client.putObject(bucket, "a.txt", "x");
    const url = await s3.client.presignedGetObject(bucket, "a.txt", 60);
    s3.emulator.failFor(800, "ServiceUnavailable");
    const failed = await fetch(url);
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain("<Code>ServiceUnavailable</Code>");
    expect(s3.emulator.faults().failUntil).not.toBeNull();
    await eventually(
      () => (s3.emulator.faults().failUntil === null ? true : undefined),
      3000,
      "the end of it",
    );
    expect((await fetch(url)).status).toBe(200);
  });

  it("writes a garbage line into every listen stream; minio-js fails on it", async () => {
    const bucket = await freshBucket();
    const listener = await listen(bucket);
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    await s3.emulator.waitForListeners(2);
    expect(s3.emulator.injectGarbage("this is not json")).toBe(2);
    await eventually(
      () => (raw.text().includes("this is not json\n") ? true : undefined),
      5000,
      "the garbage",
    );
    await eventually(() => listener.errors[0], 5000, "the parser's error");
  });
});

describe("admin endpoint", () => {
  const admin = (path: string, init?: RequestInit) => fetch(`${s3.emulator.url}/_admin${path}`, init);
  const requestsAfter = async (query = "") =>
    ((await (await admin(`/requests${query}`)).json()) as { requests: RequestLogEntry[] }).requests;

  it("changes and reports faults as JSON, naming bad fields", async () => {
    const changed = await admin("/faults", {
      method: "PUT",
      body: JSON.stringify({ dropEvents: 0.25, failCode: "ServiceUnavailable" }),
    });
    expect(await changed.json()).toEqual({
      dropEvents: 0.25,
      failUntil: null,
      failNext: 0,
      failCode: "ServiceUnavailable",
    });
    const bad = await admin("/faults", { method: "PUT", body: JSON.stringify({ dropEvents: 2, nope: 1 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/dropEvents/);
    const reset = await admin("/faults", { method: "DELETE" });
    expect(await reset.json()).toEqual({ dropEvents: 0, failUntil: null, failNext: 0, failCode: "SlowDown" });
  });

  it("answers 503 to exactly the next n requests with failNext, then serves again", async () => {
    const set = await admin("/faults", { method: "PATCH", body: JSON.stringify({ failNext: 2 }) });
    expect(await set.json()).toMatchObject({ failNext: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await fetch(`${s3.emulator.url}/minio-nothing-here`)).status);
    }
    // Two refusals, then the request is served (and refused for what it is: unsigned).
    expect(statuses).toEqual([503, 503, 403]);
    expect(s3.emulator.faults().failNext).toBe(0);
  });

  it("fails requests, cuts listeners and injects garbage over HTTP", async () => {
    const bucket = await freshBucket();
    const raw = await rawListen(bucket, { events: "s3:ObjectCreated:*" });
    await s3.emulator.waitForListeners(1);
    const garbage = await admin("/listeners/garbage", {
      method: "POST",
      body: JSON.stringify({ line: "oops" }),
    });
    expect(await garbage.json()).toEqual({ written: 1 });
    await eventually(() => (raw.text().includes("oops\n") ? true : undefined), 5000, "the garbage");
    const listed = (await (await admin("/listeners")).json()) as { listeners: ListenerInfo[] };
    expect(listed.listeners).toEqual([expect.objectContaining({ bucket, events: ["s3:ObjectCreated:*"] })]);
    const cut = await admin("/listeners/cut", { method: "POST", body: JSON.stringify({ mode: "end" }) });
    expect(await cut.json()).toEqual({ cut: 1 });
    expect(await raw.ended).toBe("end");
    await admin("/faults", { method: "POST", body: JSON.stringify({ failForMs: 60_000 }) });
    expect((await fetch(await s3.client.presignedGetObject(bucket, "x", 60))).status).toBe(503);
    await admin("/faults", { method: "DELETE" });
  });

  it("lists the S3 requests received with method, path, query and status", async () => {
    const bucket = await freshBucket();
    await s3.client.putObject(bucket, "logged file.txt", "x");
    const requests = await requestsAfter();
    expect(requests.at(-1)).toMatchObject({
      method: "PUT",
      path: `/${bucket}/logged%20file.txt`,
      query: "",
      status: 200,
      operation: "PutObject",
    });
    const after = requests.at(-1)?.seq;
    await s3.client.statObject(bucket, "logged file.txt");
    const newer = await requestsAfter(`?after=${after}`);
    expect(newer.map((request) => request.operation)).toEqual(["HeadObject"]);
    expect((await admin("/requests", { method: "DELETE" })).status).toBe(204);
    expect(await requestsAfter()).toEqual([]);
    expect((await admin("/nothing-here")).status).toBe(404);
  });
});
