// Stream outputs through the API: the URLs egress would refuse are refused with a field error,
// destinations on the fleet's own network are refused (STREAMS_ALLOW_PRIVATE_TARGETS is off, as
// in production), and a stream key is never in an answer, a job or the recording's document.
import { type Recording, redactStreamUrl } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({ redisUrl: redis.url });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

// Public addresses (IP literals: classified, never contacted by the API).
const KEY = "live_8f3kq2mzpx7wQ";
const YOUTUBE = `rtmp://142.250.74.46/live2/${KEY}`;
const TWITCH_KEY = "sk_us_west_9d8c7b6a";
const TWITCH = `rtmps://52.223.195.1:443/app/${TWITCH_KEY}`;
const SRT = "srt://8.8.4.4:9710?streamid=publish:room-7-secret&passphrase=correcthorsebattery";

const create = (json: Record<string, unknown>) => api.call("/v1/recordings", { method: "POST", json });
const patch = (id: string, json: unknown) => api.call(`/v1/recordings/${id}`, { method: "PATCH", json });

async function refusal(response: Response) {
  expect(response.status).toBe(400);
  const text = await response.text();
  for (const secret of [KEY, TWITCH_KEY, "correcthorsebattery", "room-7-secret"])
    expect(text).not.toContain(secret);
  const errors = (JSON.parse(text).errors ?? []) as { pointer: string; message: string }[];
  return errors.map((error) => `${error.pointer} ${error.message}`);
}

async function streamJobs(recordingId: string) {
  const jobs = await api.queues.control.getJobs(["waiting", "delayed"]);
  return jobs.filter((job) => job.name === "update-stream" && job.data.recordingId === recordingId);
}

async function activeStreaming(room: string, urls: string[]): Promise<Recording> {
  const response = await create({ room, outputs: [{ type: "stream", urls }] });
  expect(response.status).toBe(202);
  const created = (await response.json()) as Recording;
  await api.store.transition(created.id, "starting", { reason: "test" });
  await api.store.transition(created.id, "active", { reason: "test", egressId: `EG_${room}` });
  return created;
}

describe("a stream output", () => {
  it("keeps the whole URLs apart and shows them redacted as egress does", async () => {
    const response = await create({
      room: "stream-1",
      outputs: [{ type: "file" }, { type: "stream", urls: [YOUTUBE, TWITCH] }],
    });
    expect(response.status).toBe(202);
    const text = await response.text();
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(TWITCH_KEY);
    const recording = JSON.parse(text) as Recording;
    expect(recording.outputs).toEqual([
      { type: "file", format: "mp4" },
      {
        type: "stream",
        urls: ["rtmp://142.250.74.46/live2/{liv...7wQ}", "rtmps://52.223.195.1:443/app/{sk_...b6a}"],
      },
    ]);
    const read = await (await api.call(`/v1/recordings/${recording.id}`)).text();
    expect(read).not.toContain(KEY);
    expect(await api.store.streamUrlsOf(recording.id)).toEqual([
      { url: YOUTUBE, wanted: true },
      { url: TWITCH, wanted: true },
    ]);
    const doc = await api.redis.hget(`${api.prefix}:rec:id:${recording.id}`, "doc");
    expect(doc).toContain("{liv...7wQ}");
    expect(doc).not.toContain(KEY);
  });

  it("shows an SRT URL with its stream id redacted and its passphrase hidden whole", async () => {
    const response = await create({ room: "stream-srt", outputs: [{ type: "stream", urls: [SRT] }] });
    expect(response.status).toBe(202);
    const recording = (await response.json()) as Recording;
    expect(recording.outputs).toEqual([
      { type: "stream", urls: ["srt://8.8.4.4:9710?streamid={pub...ret}&passphrase={...}"] },
    ]);
  });

  it("refuses what egress would refuse, naming the field and never the key", async () => {
    const stream = (urls: unknown) => create({ room: "stream-bad", outputs: [{ type: "stream", urls }] });
    expect(await refusal(await stream([]))).toEqual(["/outputs/0/urls must name at least one URL"]);
    expect(await refusal(await stream([`https://142.250.74.46/live2/${KEY}`]))).toEqual([
      "/outputs/0/urls/0 must be an rtmp://, rtmps:// or srt:// URL",
    ]);
    expect(await refusal(await stream(["rtmp://142.250.74.46/live2"]))).toEqual([
      "/outputs/0/urls/0 must be rtmp(s)://host(/path)/app/stream-key, as egress takes it",
    ]);
    expect(await refusal(await stream([`rtmp://user:pw@142.250.74.46/live2/${KEY}`]))).toEqual([
      "/outputs/0/urls/0 must not carry a user name or password",
    ]);
    expect(await refusal(await stream(["srt://8.8.4.4?streamid=x"]))).toEqual([
      "/outputs/0/urls/0 must name a port (srt://host:port)",
    ]);
    expect(await refusal(await stream([YOUTUBE, SRT]))).toEqual([
      "/outputs/0/urls/1 must be an rtmp or rtmps URL like the others (egress streams one protocol per output)",
    ]);
    // Two keys that differ only in the middle would be one URL in every answer and removal.
    const twin = `rtmp://142.250.74.46/live2/liv_XXXXXXXXXXXXX7wQ`;
    expect(await refusal(await stream([YOUTUBE, twin]))).toEqual([
      "/outputs/0/urls/1 is shown as rtmp://142.250.74.46/live2/{liv...7wQ} like another of the recording's URLs; stream keys must differ in their first or last three characters",
    ]);
    expect(
      await refusal(
        await create({
          room: "stream-bad",
          outputs: [
            { type: "stream", urls: [YOUTUBE] },
            { type: "stream", urls: [TWITCH] },
          ],
        }),
      ),
    ).toEqual(["/outputs/1 repeats a stream output: one of each type (egress: multiple stream outputs)"]);
  });

  it("refuses destinations on the fleet's own network", async () => {
    const stream = (urls: string[]) => create({ room: "stream-ssrf", outputs: [{ type: "stream", urls }] });
    expect(await refusal(await stream([`rtmp://10.0.0.5/live/${KEY}`]))).toEqual([
      "/outputs/0/urls/0 10.0.0.5 is a private address: streams to non-public addresses are not allowed here (STREAMS_ALLOW_PRIVATE_TARGETS)",
    ]);
    expect(await refusal(await stream([`rtmp://[::ffff:169.254.169.254]/live/${KEY}`]))).toEqual([
      "/outputs/0/urls/0 ::ffff:a9fe:a9fe is a link-local (cloud metadata) address: streams to non-public addresses are not allowed here (STREAMS_ALLOW_PRIVATE_TARGETS)",
    ]);
    // A name is resolved: localhost is the machine's own loopback (/etc/hosts, no DNS needed).
    const [byName] = await refusal(await stream([`rtmp://localhost/live/${KEY}`]));
    expect(byName).toMatch(
      /^\/outputs\/0\/urls\/0 localhost resolves to (127\.0\.0\.1|::1), a loopback address: streams to non-public addresses/,
    );
    // Nothing was created by the refusals.
    const listed = (await (await api.call("/v1/recordings?room=stream-ssrf")).json()) as { items: unknown[] };
    expect(listed.items).toEqual([]);
  });
});

describe("PATCH streams", () => {
  it("adds and removes URLs on a running recording and queues one update-stream job per change", async () => {
    const recording = await activeStreaming("stream-patch", [YOUTUBE]);
    const added = await patch(recording.id, { streams: { add: [TWITCH] } });
    expect(added.status).toBe(202);
    const text = await added.text();
    expect(text).not.toContain(TWITCH_KEY);
    const body = JSON.parse(text) as Recording;
    expect(body.outputs).toEqual([
      { type: "stream", urls: [redactStreamUrl(YOUTUBE), redactStreamUrl(TWITCH)] },
    ]);
    expect(body.timeline.at(-1)?.reason).toBe(`streams +${redactStreamUrl(TWITCH)} through the API`);
    const [job] = await streamJobs(recording.id);
    expect(job?.data).toEqual({
      recordingId: recording.id,
      add: [redactStreamUrl(TWITCH)],
      remove: [],
      requestedAtMs: Date.parse(body.updatedAt),
    });
    // Removed by the form the recording shows; the whole URL stays kept, unwanted, until egress dropped it.
    const removed = await patch(recording.id, { streams: { remove: [redactStreamUrl(YOUTUBE)] } });
    expect(removed.status).toBe(202);
    expect(((await removed.json()) as Recording).outputs).toEqual([
      { type: "stream", urls: [redactStreamUrl(TWITCH)] },
    ]);
    expect(await api.store.streamUrlsOf(recording.id)).toEqual([
      { url: YOUTUBE, wanted: false },
      { url: TWITCH, wanted: true },
    ]);
    expect(await streamJobs(recording.id)).toHaveLength(2);
    // Adding what is already streamed changes nothing and queues nothing.
    expect((await patch(recording.id, { streams: { add: [TWITCH] } })).status).toBe(202);
    expect(await streamJobs(recording.id)).toHaveLength(2);
    // A whole URL names the same stream as its redacted form.
    const back = await patch(recording.id, { streams: { add: [YOUTUBE], remove: [TWITCH] } });
    expect(((await back.json()) as Recording).outputs).toEqual([
      { type: "stream", urls: [redactStreamUrl(YOUTUBE)] },
    ]);
    const jobs = await streamJobs(recording.id);
    expect(jobs.map((job) => job.data.remove)).toContainEqual([redactStreamUrl(TWITCH)]);
    for (const job of jobs) expect(JSON.stringify(job.data)).not.toMatch(new RegExp(`${KEY}|${TWITCH_KEY}`));
  });

  it("queues the job again when a client retries a change whose job was lost, never twice", async () => {
    const recording = await activeStreaming("stream-patch-retry", [YOUTUBE]);
    expect((await patch(recording.id, { streams: { add: [TWITCH] } })).status).toBe(202);
    const [job] = await streamJobs(recording.id);
    // As if the API died (or Redis went away) between the change and its job.
    await job?.remove();
    expect(await streamJobs(recording.id)).toEqual([]);
    expect((await patch(recording.id, { streams: { add: [TWITCH] } })).status).toBe(202);
    const again = await streamJobs(recording.id);
    expect(again.map((entry) => entry.id)).toEqual([job?.id]);
    expect(again[0]?.data.add).toEqual([redactStreamUrl(TWITCH)]);
    // The job exists now: one more retry adds none.
    expect((await patch(recording.id, { streams: { add: [TWITCH] } })).status).toBe(202);
    expect(await streamJobs(recording.id)).toHaveLength(1);
  });

  it("refuses a change that egress would refuse or that leaves nothing to stream", async () => {
    const recording = await activeStreaming("stream-patch-bad", [YOUTUBE]);
    expect(await refusal(await patch(recording.id, { streams: { remove: [YOUTUBE] } }))).toEqual([
      "/streams/remove would remove every stream URL: stop the recording instead",
    ]);
    expect(
      await refusal(
        await patch(recording.id, { streams: { remove: ["rtmp://142.250.74.46/live2/{abc...xyz}"] } }),
      ),
    ).toEqual(["/streams/remove/0 is not one of the recording's stream URLs (outputs[].urls)"]);
    expect(await refusal(await patch(recording.id, { streams: { add: [SRT] } }))).toEqual([
      "/streams/add/0 must be an rtmp or rtmps URL like the others (egress streams one protocol per output)",
    ]);
    expect(
      await refusal(await patch(recording.id, { streams: { add: [`rtmp://192.168.1.20/live/${KEY}x`] } })),
    ).toEqual([
      "/streams/add/0 192.168.1.20 is a private address: streams to non-public addresses are not allowed here (STREAMS_ALLOW_PRIVATE_TARGETS)",
    ]);
    expect(await refusal(await patch(recording.id, { streams: {} }))).toEqual([
      "/streams must add or remove at least one URL",
    ]);
    expect(await refusal(await patch(recording.id, {}))).toEqual([" must change layout or streams"]);
    const file = (await (await create({ room: "stream-patch-file" })).json()) as Recording;
    expect(await refusal(await patch(file.id, { streams: { add: [TWITCH] } }))).toEqual([
      "/streams applies to a recording with a stream output",
    ]);
    expect(await streamJobs(recording.id)).toEqual([]);
    await api.store.transition(recording.id, "stopped", { reason: "test" });
    const ended = await patch(recording.id, { streams: { add: [TWITCH] } });
    expect(ended.status).toBe(409);
    expect((await problemOf(ended)).detail).toBe(
      `Recording ${recording.id} is stopped: its streams can no longer change.`,
    );
  });
});
