import type { Recording } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({
    redisUrl: redis.url,
    encoding: {
      customBaseUrls: ["https://templates.example/"],
      webSourceUrls: ["https://dashboards.example/boards/"],
    },
  });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

const create = (json: Record<string, unknown>) => api.call("/v1/recordings", { method: "POST", json });

async function refusal(json: Record<string, unknown>) {
  const response = await create(json);
  expect(response.status).toBe(400);
  const errors = ((await problemOf(response)).errors ?? []) as { pointer: string; message: string }[];
  return errors.map((error) => `${error.pointer} ${error.message}`);
}

describe("what a recording records", () => {
  it("records participants and tracks of a room side by side with its composite, each once", async () => {
    const composite = await create({ room: "sources-room" });
    expect(composite.status).toBe(202);
    expect(((await composite.json()) as Recording).source).toEqual({ type: "room" });
    const alice = await create({ room: "sources-room", source: { type: "participant", identity: "alice" } });
    expect(alice.status).toBe(202);
    expect(((await alice.json()) as Recording).source).toEqual({
      type: "participant",
      identity: "alice",
      screenShare: false,
    });
    const bob = await create({
      room: "sources-room",
      source: { type: "participant", identity: "bob", screenShare: true },
    });
    expect(bob.status).toBe(202);
    const again = await create({ room: "sources-room", source: { type: "participant", identity: "alice" } });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(
      /^Participant "alice" of room "sources-room" has a recording already in progress/,
    );
    const tracks = await create({
      room: "sources-room",
      kind: "audio",
      source: { type: "tracks", audioTrackId: "TR_AMkBvTKs9eMz" },
    });
    expect(tracks.status).toBe(202);
    expect(((await tracks.json()) as Recording).source).toEqual({
      type: "tracks",
      audioTrackId: "TR_AMkBvTKs9eMz",
      videoTrackId: null,
    });
    const listed = await api.call("/v1/recordings?room=sources-room");
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(4);
  });

  it("refuses what a source cannot be recorded as", async () => {
    expect(await refusal({ room: "r1", source: { type: "participant" } })).toEqual([
      "/source/identity must be a string",
    ]);
    expect(await refusal({ room: "r1", source: { type: "screen" } })).toEqual([
      "/source/type must be room, participant, tracks, track or web (an object with that type)",
    ]);
    expect(await refusal({ room: "r1", source: { type: "tracks" } })).toEqual([
      "/source must name audioTrackId, videoTrackId or both",
    ]);
    expect(await refusal({ room: "r1", source: { type: "tracks", audioTrackId: "TR a" } })).toEqual([
      "/source/audioTrackId must be a track sid such as TR_AMkBvTKs9eMz",
    ]);
    expect(
      await refusal({
        room: "r1",
        kind: "audio",
        layout: "grid",
        customBaseUrl: "https://templates.example/x",
        source: { type: "participant", identity: "carol" },
      }),
    ).toEqual([
      "/layout applies to a room source only",
      "/customBaseUrl applies to a room source only",
      "/kind must be video for a participant (egress records its camera and microphone)",
    ]);
    expect(
      await refusal({
        room: "r1",
        kind: "audio",
        source: { type: "tracks", audioTrackId: "TR_a", videoTrackId: "TR_v" },
      }),
    ).toEqual(["/source/videoTrackId has no place in an audio recording"]);
    expect(
      await refusal({ room: "r1", source: { type: "participant", identity: "x", extra: 1 } }),
    ).toHaveLength(1);
  });
});

describe("a track as published, and a web page", () => {
  it("records one track without a profile, its file's container left to the codec unless asked", async () => {
    const video = await create({ room: "track-room", source: { type: "track", trackId: "TR_video1" } });
    expect(video.status).toBe(202);
    const recording = (await video.json()) as Recording;
    expect(recording.source).toEqual({ type: "track", trackId: "TR_video1" });
    expect(recording.profile).toBeNull();
    expect(recording.outputs).toEqual([{ type: "file", format: null }]);
    const audio = await create({
      room: "track-room",
      kind: "audio",
      source: { type: "track", trackId: "TR_audio1" },
    });
    expect(((await audio.json()) as Recording).outputs).toEqual([{ type: "file", format: "ogg" }]);
    const webm = await create({
      room: "track-room",
      source: { type: "track", trackId: "TR_video2" },
      outputs: [{ type: "file", format: "webm" }],
    });
    expect(((await webm.json()) as Recording).outputs).toEqual([{ type: "file", format: "webm" }]);
    const again = await create({ room: "track-room", source: { type: "track", trackId: "TR_video1" } });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(
      /^Track TR_video1 of room "track-room" has a recording already/,
    );
  });

  it("refuses for a track what track egress cannot do: a profile, overrides, another output, a container its kind has not", async () => {
    expect(
      await refusal({
        room: "r2",
        source: { type: "track", trackId: "TR_v" },
        profile: "low-cpu",
        encoding: { framerate: 15 },
        outputs: [{ type: "file", format: "ogg" }, { type: "hls" }],
      }),
    ).toEqual([
      "/profile does not apply to a track source: egress records the track without transcoding",
      "/encoding does not apply to a track source: egress records the track without transcoding",
      "/outputs/0/format must be mp4 or webm for a video track (H.264: mp4, VP8/VP9: webm)",
      "/outputs/1 has no place beside a track source: track egress writes one file and nothing else",
    ]);
    expect(
      await refusal({
        room: "r2",
        kind: "audio",
        source: { type: "track", trackId: "TR_a" },
        outputs: [{ type: "file", format: "webm" }],
      }),
    ).toEqual(["/outputs/0/format must be ogg for an audio track (Opus: ogg)"]);
    expect(await refusal({ room: "r2", outputs: [{ type: "file", format: "webm" }] })).toEqual([
      "/outputs/0/format must be mp4 for a video recording",
    ]);
  });

  it("records a page under the operator's web source URLs, filed under a room name, once per page and kind", async () => {
    const url = "https://dashboards.example/boards/42?view=live";
    const page = await create({ room: "ops", source: { type: "web", url } });
    expect(page.status).toBe(202);
    const recording = (await page.json()) as Recording;
    expect(recording.source).toEqual({ type: "web", url, awaitStartSignal: false });
    expect(recording.profile).toBe("low-cpu");
    const audio = await create({
      room: "ops",
      kind: "audio",
      source: { type: "web", url, awaitStartSignal: true },
    });
    expect(audio.status).toBe(202);
    const again = await create({ room: "ops", source: { type: "web", url } });
    expect(again.status).toBe(409);
    expect((await problemOf(again)).detail).toMatch(
      /^The page https:\/\/dashboards\.example\/boards\/42\?view=live has a video recording filed under room "ops" already/,
    );
    const profiles = (await (await api.call("/v1/profiles")).json()) as { webSourceUrls: string[] };
    expect(profiles.webSourceUrls).toEqual(["https://dashboards.example/boards/"]);
  });

  it("refuses a page outside the allow-list, with credentials, not http(s), or with a room wait", async () => {
    for (const url of [
      "https://dashboards.example/admin",
      "https://dashboards.example.evil/boards/1",
      "https://user:pw@dashboards.example/boards/1",
      "http://dashboards.example/boards/1",
    ]) {
      expect(await refusal({ room: "r3", source: { type: "web", url } })).toEqual([
        "/source/url must start with one of https://dashboards.example/boards/",
      ]);
    }
    expect(await refusal({ room: "r3", source: { type: "web", url: "file:///etc/passwd" } })).toEqual([
      "/source/url must be an http(s) URL",
    ]);
    expect(
      await refusal({
        room: "r3",
        roomWaitSeconds: 60,
        layout: "grid",
        source: { type: "web", url: "https://dashboards.example/boards/1" },
      }),
    ).toEqual([
      "/layout applies to a room source only",
      "/roomWaitSeconds has no place in a web recording: egress opens the page, not a room",
    ]);
  });
});

describe("where a recording goes", () => {
  it("stores the outputs asked for with egress' defaults, and one file of the kind when none are", async () => {
    const plain = (await (await create({ room: "outputs-1", kind: "audio" })).json()) as Recording;
    expect(plain.outputs).toEqual([{ type: "file", format: "ogg" }]);
    const response = await create({
      room: "outputs-2",
      source: { type: "participant", identity: "dora" },
      outputs: [{ type: "hls" }, { type: "images", width: 640 }],
    });
    expect(response.status).toBe(202);
    expect(((await response.json()) as Recording).outputs).toEqual([
      { type: "hls", segmentSeconds: 4, livePlaylist: false },
      { type: "images", intervalSeconds: 10, width: 640, height: null },
    ]);
  });

  it("refuses outputs egress would refuse, each named by its field", async () => {
    expect(await refusal({ room: "r2", outputs: [] })).toEqual(["/outputs must name at least one output"]);
    expect(await refusal({ room: "r2", outputs: [{ type: "webpage" }] })).toEqual([
      "/outputs/0/type must be file, hls, images or stream (an object with that type)",
    ]);
    expect(
      await refusal({ room: "r2", outputs: [{ type: "hls" }, { type: "hls", segmentSeconds: 2 }] }),
    ).toEqual([
      "/outputs/1 repeats a hls output: one of each type (egress: multiple segmented file outputs)",
    ]);
    expect(await refusal({ room: "r2", outputs: [{ type: "hls", segmentSeconds: 0 }] })).toEqual([
      "/outputs/0/segmentSeconds must be a whole number of seconds from 1 to 60",
    ]);
    expect(
      await refusal({
        room: "r2",
        kind: "audio",
        outputs: [{ type: "file", format: "mp4" }, { type: "images" }],
      }),
    ).toEqual([
      "/outputs/0/format must be ogg for an audio recording",
      "/outputs/1 has no place in an audio recording (egress: audio_only images)",
    ]);
    expect(await refusal({ room: "r2", outputs: [{ type: "images", width: 7680 }] })).toEqual([
      "/outputs/0/width must be at most 1920 (ENCODING_MAX_WIDTH)",
    ]);
    expect(await refusal({ room: "r2", outputs: [{ type: "file", extra: true }] })).toHaveLength(1);
  });
});
