// Stream URLs are secrets: how they are redacted (as egress does), checked, and kept apart from
// the recording's document by the store until the recording ends.
import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventsOf,
  type NewRecording,
  RecordingStore,
  redactIdentifier,
  redactStreamUrl,
  type StreamResult,
  scrubStreamUrls,
  shownReportedUrl,
  streamUrlProblem,
} from "../src/index.ts";

describe("redactStreamUrl", () => {
  it("redacts an RTMP key exactly as egress does (livekit/protocol RedactIdentifier)", () => {
    expect(redactIdentifier("abcdefghijkl")).toBe("{abc...jkl}");
    expect(redactIdentifier("abcdef")).toBe("{ab...ef}");
    expect(redactIdentifier("abc")).toBe("{a...c}");
    expect(redactIdentifier("ab")).toBe("{...}");
    expect(redactStreamUrl("rtmp://a.rtmp.youtube.com/live2/xxxx-yyyy-zzzz")).toBe(
      "rtmp://a.rtmp.youtube.com/live2/{xxx...zzz}",
    );
    expect(redactStreamUrl("rtmps://live.example:443/path/app/sk_live_12345 live=1")).toBe(
      "rtmps://live.example:443/path/app/{sk_...345} live=1",
    );
  });

  it("hides every SRT query value: the stream id shortened, the passphrase whole", () => {
    expect(
      redactStreamUrl("srt://srt.example:9000?streamid=publish:abc123xyz&passphrase=hunter22hunter"),
    ).toBe("srt://srt.example:9000?streamid={pub...xyz}&passphrase={...}");
    expect(redactStreamUrl("srt://srt.example:9000")).toBe("srt://srt.example:9000");
  });

  it("keeps only scheme and host of what it cannot split", () => {
    expect(redactStreamUrl("https://secret.example/token/abc")).toBe("https://secret.example/{...}");
    expect(redactStreamUrl("not a url at all")).toBe("{...}");
  });

  it("redacts every stream URL inside free text, and an SRT URL egress reports whole", () => {
    expect(
      scrubStreamUrls(
        'invalid url rtmp://x.example/app/mykey1234567: failed, "srt://y.example:1?passphrase=p4ssw0rd"',
      ),
    ).toBe('invalid url rtmp://x.example/app/{myk...567}: failed, "srt://y.example:1?passphrase={...}"');
    expect(shownReportedUrl("rtmp://x.example/app/{myk...567}")).toBe("rtmp://x.example/app/{myk...567}");
    expect(shownReportedUrl("srt://y.example:1?streamid=abcdefghij")).toBe(
      "srt://y.example:1?streamid={abc...hij}",
    );
  });
});

describe("streamUrlProblem", () => {
  it("takes what egress takes and says why it refuses the rest", () => {
    expect(streamUrlProblem("rtmp://a.example/live/key")).toBeNull();
    expect(streamUrlProblem("rtmps://a.example:443/x/live/key live=1")).toBeNull();
    expect(streamUrlProblem("srt://a.example:9000?streamid=x")).toBeNull();
    expect(streamUrlProblem("http://a.example/live/key")).toBe("must be an rtmp://, rtmps:// or srt:// URL");
    expect(streamUrlProblem("rtmp://a.example/key")).toBe(
      "must be rtmp(s)://host(/path)/app/stream-key, as egress takes it",
    );
    expect(streamUrlProblem("rtmp://a.example/live/")).toBe(
      "must be rtmp(s)://host(/path)/app/stream-key, as egress takes it",
    );
    expect(streamUrlProblem("rtmp://a.example/live/key with space")).toBe(
      "must not contain spaces or control characters",
    );
    expect(streamUrlProblem("srt://a.example?streamid=x")).toBe("must name a port (srt://host:port)");
    expect(streamUrlProblem(`rtmp://a.example/live/${"k".repeat(2048)}`)).toBe(
      "must be at most 2048 characters",
    );
  });
});

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { commandTimeout: 2000 });
  await redis.ping();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const KEY = "sk-live-4f8d9a0b1c2e";
const URL_A = `rtmp://ingest.example/live/${KEY}`;
const URL_B = "rtmp://other.example/app/second-key-987654";

function streaming(): NewRecording {
  return {
    room: "stream-room",
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
    outputs: [{ type: "stream", urls: [redactStreamUrl(URL_A)] }],
    streamUrls: [URL_A],
  };
}

async function createdStreaming(store: RecordingStore) {
  const result = await store.create(streaming());
  if (result.outcome !== "created") throw new Error(result.outcome);
  return result.recording;
}

describe("the store's stream URLs", () => {
  it("keeps the whole URLs out of the document, and drops them when the recording ends", async () => {
    const prefix = uniquePrefix();
    const store = new RecordingStore({ redis, prefix, retentionDays: 30 });
    const recording = await createdStreaming(store);
    expect(await store.streamUrlsOf(recording.id)).toEqual([{ url: URL_A, wanted: true }]);
    const doc = await redis.hget(`${prefix}:rec:id:${recording.id}`, "doc");
    expect(doc).not.toContain(KEY);
    await store.transition(recording.id, "starting", { reason: "test" });
    await store.transition(recording.id, "active", { reason: "test", egressId: "EG_1" });
    // Other changes keep them.
    expect(await store.streamUrlsOf(recording.id)).toEqual([{ url: URL_A, wanted: true }]);
    await store.transition(recording.id, "stopped", { reason: "test" });
    expect(await store.streamUrlsOf(recording.id)).toHaveLength(1);
    await store.transition(recording.id, "notified", { reason: "test" });
    expect(await store.streamUrlsOf(recording.id)).toEqual([]);
    const fields = await redis.hgetall(`${prefix}:rec:id:${recording.id}`);
    expect(JSON.stringify(fields)).not.toContain(KEY);
  });

  it("adds and removes URLs in one step with the outputs' redacted list, while in progress only", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 30 });
    const recording = await createdStreaming(store);
    const added = await store.changeStreams(
      recording.id,
      { add: [URL_B], remove: [] },
      redactStreamUrl,
      "add b",
    );
    expect(added.ok).toBe(true);
    if (!added.ok) return;
    expect(added.recording.outputs).toEqual([
      { type: "stream", urls: [redactStreamUrl(URL_A), redactStreamUrl(URL_B)] },
    ]);
    const removed = await store.changeStreams(
      recording.id,
      { add: [], remove: [redactStreamUrl(URL_A)] },
      redactStreamUrl,
      "remove a",
    );
    expect(removed.ok && removed.recording.outputs).toEqual([
      { type: "stream", urls: [redactStreamUrl(URL_B)] },
    ]);
    expect(await store.streamUrlsOf(recording.id)).toEqual([
      { url: URL_A, wanted: false },
      { url: URL_B, wanted: true },
    ]);
    // Nothing to change is a no-op; so is any change once the recording is over.
    expect(
      (await store.changeStreams(recording.id, { add: [URL_B], remove: [] }, redactStreamUrl, "x")).ok,
    ).toBe(false);
    await store.transition(recording.id, "cancelled", { reason: "test" });
    const late = await store.changeStreams(
      recording.id,
      { add: [URL_A], remove: [] },
      redactStreamUrl,
      "late",
    );
    expect(late).toMatchObject({ ok: false, reason: "illegal" });
  });

  it("takes egress' stream results in report order: an older report changes nothing", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 30 });
    const recording = await createdStreaming(store);
    const live: StreamResult = {
      url: redactStreamUrl(URL_A),
      status: "active",
      startedAt: "2026-12-04T10:00:01.000Z",
      endedAt: null,
      error: null,
      retries: 0,
    };
    const first = await store.recordStreams(
      recording.id,
      [live],
      "2026-12-04T10:00:02.000Z",
      "egress_updated",
    );
    expect(first.ok && first.recording.timeline.at(-1)?.reason).toBe(
      `stream ${redactStreamUrl(URL_A)} is live (egress_updated)`,
    );
    const failed: StreamResult = {
      ...live,
      status: "failed",
      endedAt: "2026-12-04T10:00:09.000Z",
      error: "connection refused",
    };
    await store.recordStreams(recording.id, [failed], "2026-12-04T10:00:10.000Z", "egress_updated");
    // The earlier report arriving late (webhooks are unordered) does not bring the stream back.
    const stale = await store.recordStreams(
      recording.id,
      [live],
      "2026-12-04T10:00:05.000Z",
      "egress_updated",
    );
    expect(stale.ok).toBe(false);
    const now = await store.get(recording.id);
    expect(now?.streams).toEqual([failed]);
    expect(now?.timeline.at(-1)?.reason).toBe(
      `stream ${redactStreamUrl(URL_A)} failed: connection refused (egress_updated)`,
    );
  });
});

describe("the events of a stream-only recording", () => {
  it("ends with recording.stopped: an email that could not be sent is no recording.failed", () => {
    expect(eventsOf("active", "stopped")).toEqual(["recording.stopped"]);
    expect(eventsOf("stopped", "notified")).toEqual([]);
    expect(eventsOf("stopped", "failed", "notification_failed")).toEqual([]);
    // The file never came: that is a failed recording.
    expect(eventsOf("stopped", "failed", "lost")).toEqual(["recording.failed"]);
  });
});
