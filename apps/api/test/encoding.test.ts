import type { Recording } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
let closed: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({
    redisUrl: redis.url,
    encoding: {
      maxWidth: 1920,
      maxHeight: 1080,
      maxFramerate: 30,
      customBaseUrls: ["https://templates.example/recording"],
    },
  });
  closed = await startTestApi({ redisUrl: redis.url });
});
afterAll(async () => {
  await Promise.all([api?.close(), closed?.close()]);
  await redis?.stop();
});

let rooms = 0;
const create = async (fields: Record<string, unknown>, on: TestApi = api) => {
  rooms += 1;
  return on.call("/v1/recordings", { method: "POST", json: { room: `encoding-${rooms}`, ...fields } });
};

async function refusal(fields: Record<string, unknown>, on: TestApi = api) {
  const response = await create(fields, on);
  expect(response.status).toBe(400);
  const problem = await problemOf(response);
  expect(problem.type).toBe("https://recfleet.dev/problems/validation-error");
  const errors = (problem.errors ?? []) as { pointer: string; message: string }[];
  return errors.map((error) => `${error.pointer} ${error.message}`);
}

describe("encoding per recording", () => {
  it("stores overrides, a layout and a custom template within the bounds", async () => {
    const encoding = {
      width: 1920,
      height: 1080,
      framerate: 25,
      videoBitrate: 2500,
      audioBitrate: 128,
      keyFrameInterval: 2,
    };
    const response = await create({
      profile: "balanced",
      layout: "single-speaker-light",
      encoding,
      customBaseUrl: "https://templates.example/recording/v2/?brand=acme",
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Recording;
    expect(body).toMatchObject({ profile: "balanced", layout: "single-speaker-light", encoding });
    expect(body.customBaseUrl).toBe("https://templates.example/recording/v2/?brand=acme");
    expect((await api.store.get(body.id))?.encoding).toEqual(encoding);

    const plain = (await (await create({})).json()) as Recording;
    expect(plain).toMatchObject({ encoding: null, customBaseUrl: null });
    const audio = await create({ kind: "audio", encoding: { audioBitrate: 48 } });
    expect(audio.status).toBe(202);
  });

  it("refuses what egress would refuse, by the profiles' rules", async () => {
    expect(
      await refusal({ encoding: { width: 1001, framerate: 0, videoBitrate: -5, keyFrameInterval: 30 } }),
    ).toEqual([
      "/encoding/width must be even and at least 16",
      "/encoding/framerate must be from 1 to 60",
      "/encoding/videoBitrate must be positive",
      "/encoding/keyFrameInterval must be more than 0 and at most 20 seconds",
    ]);
    expect((await refusal({ encoding: { depth: 8 } }))[0]).toMatch(/^\/encoding/);
    expect(await refusal({ layout: "single-speaker-blue" })).toEqual([
      expect.stringMatching(/^\/layout must be one of .*single-speaker-light/),
    ]);
  });

  it("refuses what the operator's bounds do not allow, naming each bound", async () => {
    expect(
      await refusal({
        encoding: { width: 3840, height: 2160, framerate: 60, videoBitrate: 20_000, audioBitrate: 512 },
      }),
    ).toEqual([
      "/encoding/width must be at most 1920 pixels on this service",
      "/encoding/height must be at most 1080 pixels on this service",
      "/encoding/framerate must be at most 30 frames per second on this service",
      "/encoding/videoBitrate must be at most 6000 kbps on this service",
      "/encoding/audioBitrate must be at most 256 kbps on this service",
    ]);
    expect(await refusal({ kind: "audio", encoding: { width: 640, audioBitrate: 64 } })).toEqual([
      "/encoding/width does not apply to an audio recording (only audioBitrate does)",
    ]);
  });

  it("takes custom templates from the allow-list only", async () => {
    for (const url of [
      "https://templates.example/recordingX/",
      "https://evil.example/recording/",
      "http://templates.example/recording/",
      "https://user:pw@templates.example/recording/",
    ]) {
      expect(await refusal({ customBaseUrl: url }), url).toEqual([
        "/customBaseUrl must start with one of https://templates.example/recording",
      ]);
    }
    expect(await refusal({ customBaseUrl: "javascript:alert(1)" })).toEqual([
      "/customBaseUrl must be an http(s) URL",
    ]);
    expect(await refusal({ customBaseUrl: "https://templates.example/recording/" }, closed)).toEqual([
      "/customBaseUrl custom templates are not enabled on this service",
    ]);
  });

  it("publishes the bounds and the template URLs with the profiles", async () => {
    const response = await api.call("/v1/profiles");
    expect(await response.json()).toMatchObject({
      overrideBounds: {
        maxWidth: 1920,
        maxHeight: 1080,
        maxFramerate: 30,
        maxVideoBitrate: 6000,
        maxAudioBitrate: 256,
      },
      customBaseUrls: ["https://templates.example/recording"],
    });
  });
});
