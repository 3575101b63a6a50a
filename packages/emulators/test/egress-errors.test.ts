import {
  AccessToken,
  AudioCodec,
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  EncodingOptions,
  ServerError,
} from "livekit-server-sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { failure, handMadeJwt, openRooms, waitFor } from "./egress-support.ts";

let emulator: LiveKitEmulator;
let client: EgressClient;

const file = (filepath: string) => new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath });

async function recordToken(): Promise<string> {
  const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
  token.addGrant({ roomRecord: true });
  return token.toJwt();
}

/** A raw Twirp call, for what the SDK cannot send (bad headers, odd bodies, unknown methods). */
async function rawCall(
  method: string,
  body: string,
  headers: Record<string, string> = {},
  httpMethod = "POST",
): Promise<{ status: number; contentType: string | null; text: string }> {
  const response = await fetch(`${emulator.url}/twirp/livekit.Egress/${method}`, {
    method: httpMethod,
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await recordToken()}`,
      ...headers,
    },
    ...(httpMethod === "POST" ? { body } : {}),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text: await response.text(),
  };
}

function expectServerError(
  error: unknown,
  status: number,
  code: string | undefined,
  message: string | RegExp,
) {
  expect(error).toBeInstanceOf(ServerError);
  const serverError = error as ServerError;
  expect(serverError.status).toBe(status);
  expect(serverError.code).toBe(code);
  if (typeof message === "string") expect(serverError.message).toBe(message);
  else expect(serverError.message).toMatch(message);
}

beforeAll(async () => {
  emulator = await startLiveKitEmulator({ activationDelayMs: 20, logLevel: "error" });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
});

const ROOMS = ["room", "room-c", "room-f", "room-s", "room-slow", "room-x"];

beforeEach(() => openRooms(emulator, ROOMS));

afterEach(async () => {
  await emulator.idle();
  emulator.reset();
});

afterAll(async () => {
  await emulator.close();
});

describe("authentication", () => {
  it("answers a token signed with another secret 401 in plain text, not Twirp JSON", async () => {
    const wrong = new EgressClient(emulator.url, emulator.apiKey, "not-the-secret");
    const error = await failure(wrong.listEgress());
    expectServerError(
      error,
      401,
      undefined,
      // livekit-server's answer no longer echoes the token (pkg/service/auth.go).
      "invalid authorization token: go-jose/go-jose: error in cryptographic primitive",
    );

    const raw = await rawCall("ListEgress", "{}", {
      authorization: `Bearer ${handMadeJwt({ iss: emulator.apiKey, video: { roomRecord: true } }, "x")}`,
    });
    expect(raw.status).toBe(401);
    expect(raw.contentType).toBe("text/plain; charset=utf-8");
    expect(emulator.requests().at(-1)).toMatchObject({ authOk: false, status: 401, code: null });
  });

  it("answers a token from an unknown API key 401 invalid API key", async () => {
    const stranger = new EgressClient(emulator.url, "someone-else", emulator.apiSecret);
    expectServerError(await failure(stranger.listEgress()), 401, undefined, "invalid API key");
  });

  it("answers an Authorization header without Bearer 401", async () => {
    const raw = await rawCall("ListEgress", "{}", { authorization: await recordToken() });
    expect(raw).toEqual({
      status: 401,
      contentType: "text/plain; charset=utf-8",
      text: "invalid authorization header. Must start with Bearer ",
    });
  });

  it("refuses an expired token and one not valid yet, beyond a minute of leeway", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = handMadeJwt(
      { iss: emulator.apiKey, exp: now - 120, nbf: now - 720, video: { roomRecord: true } },
      emulator.apiSecret,
    );
    const early = handMadeJwt(
      { iss: emulator.apiKey, exp: now + 720, nbf: now + 120, video: { roomRecord: true } },
      emulator.apiSecret,
    );
    const slightlyExpired = handMadeJwt(
      { iss: emulator.apiKey, exp: now - 10, nbf: now - 600, video: { roomRecord: true } },
      emulator.apiSecret,
    );
    expect(await rawCall("ListEgress", "{}", { authorization: `Bearer ${expired}` })).toMatchObject({
      status: 401,
      text: expect.stringMatching(/token is expired \(exp\)$/),
    });
    expect(await rawCall("ListEgress", "{}", { authorization: `Bearer ${early}` })).toMatchObject({
      status: 401,
      text: expect.stringMatching(/token not valid yet \(nbf\)$/),
    });
    expect((await rawCall("ListEgress", "{}", { authorization: `Bearer ${slightlyExpired}` })).status).toBe(
      200,
    );
  });

  it("answers a valid token without the roomRecord grant unauthenticated permissions denied", async () => {
    const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
    token.addGrant({ roomList: true, roomAdmin: true });
    const listOnly = new EgressClient(emulator.url, undefined, undefined, { token: await token.toJwt() });
    expectServerError(await failure(listOnly.listEgress()), 401, "unauthenticated", "permissions denied");
    expect(emulator.requests().at(-1)).toMatchObject({
      authOk: true,
      roomRecord: false,
      code: "unauthenticated",
    });

    const anonymous = await rawCall("StopEgress", '{"egressId":"EG_x"}', { authorization: "" });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toEqual({ code: "unauthenticated", msg: "permissions denied" });
  });
});

describe("Twirp routing and decoding", () => {
  it("answers malformed JSON with malformed 400", async () => {
    const raw = await rawCall("StartRoomCompositeEgress", '{"roomName": ');
    expect(raw.status).toBe(400);
    expect(raw.contentType).toBe("application/json");
    expect(JSON.parse(raw.text)).toEqual({ code: "malformed", msg: "the json request could not be decoded" });
    const wrongType = await rawCall("StartRoomCompositeEgress", '{"roomName": 42}');
    expect(JSON.parse(wrongType.text)).toMatchObject({ code: "malformed" });
  });

  it("answers an unknown method bad_route 404 and a real but unemulated one unimplemented 501", async () => {
    const unknown = await rawCall("StartSomething", "{}");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({
      code: "bad_route",
      msg: 'no handler for path "/twirp/livekit.Egress/StartSomething"',
      meta: { twirp_invalid_route: "POST /twirp/livekit.Egress/StartSomething" },
    });
    const unemulated = await rawCall("StartEgress", "{}");
    expect(unemulated.status).toBe(501);
    expect(JSON.parse(unemulated.text)).toMatchObject({ code: "unimplemented" });
    const get = await rawCall("ListEgress", "", {}, "GET");
    expect(JSON.parse(get.text)).toMatchObject({
      code: "bad_route",
      msg: 'unsupported method "GET" (only POST is allowed)',
    });
    const text = await rawCall("ListEgress", "{}", { "content-type": "text/plain" });
    expect(JSON.parse(text.text)).toMatchObject({
      code: "bad_route",
      msg: 'unexpected Content-Type: "text/plain"',
    });
  });

  it("ignores unknown JSON fields, like protojson with DiscardUnknown", async () => {
    const raw = await rawCall("ListEgress", '{"roomName":"r","someFutureField":true}');
    expect(raw.status).toBe(200);
  });
});

describe("request validation", () => {
  it("applies egress' own encoding rules: width and height even and ≥ 16, depth 8/16/24", async () => {
    const start = (options: ConstructorParameters<typeof EncodingOptions>[0]) =>
      failure(
        client.startRoomCompositeEgress(
          "room",
          { file: file("x.mp4") },
          { encodingOptions: new EncodingOptions(options) },
        ),
      );
    const invalid = (field: string) => `request has missing or invalid field: ${field}`;
    expectServerError(await start({ width: 1281, height: 720 }), 400, "invalid_argument", invalid("width"));
    expectServerError(await start({ width: 8, height: 720 }), 400, "invalid_argument", invalid("width"));
    expectServerError(await start({ width: 1280, height: 721 }), 400, "invalid_argument", invalid("height"));
    expectServerError(await start({ depth: 12 }), 400, "invalid_argument", invalid("depth"));
    expect(emulator.egresses()).toEqual([]);
  });

  it("refuses a custom template that is not an http(s) URL, and takes one that is", async () => {
    const invalid = "request has missing or invalid field: template base url";
    for (const customBaseUrl of ["file:///etc/passwd", "not a url"]) {
      expectServerError(
        await failure(client.startRoomCompositeEgress("room", { file: file("x.mp4") }, { customBaseUrl })),
        400,
        "invalid_argument",
        invalid,
      );
    }
    expect(emulator.egresses()).toEqual([]);
    const info = await client.startRoomCompositeEgress(
      "room",
      { file: file("custom.mp4") },
      { customBaseUrl: "https://templates.example/recording/", layout: "single-speaker-light" },
    );
    expect(info.request.case === "roomComposite" && info.request.value.customBaseUrl).toBe(
      "https://templates.example/recording/",
    );
  });

  it("refuses a request without a room name, without an output or with two file outputs", async () => {
    const invalid = (field: string) => `request has missing or invalid field: ${field}`;
    expectServerError(
      await failure(client.startRoomCompositeEgress("", { file: file("x.mp4") })),
      400,
      "invalid_argument",
      invalid("room_name"),
    );
    expectServerError(
      await failure(client.startRoomCompositeEgress("room", {})),
      400,
      "invalid_argument",
      invalid("output"),
    );
    const two = await rawCall(
      "StartRoomCompositeEgress",
      JSON.stringify({ roomName: "room", fileOutputs: [{ filepath: "a.mp4" }, { filepath: "b.mp4" }] }),
    );
    expect(JSON.parse(two.text)).toEqual({ code: "invalid_argument", msg: invalid("multiple file outputs") });
    const neither = await rawCall(
      "StartRoomCompositeEgress",
      JSON.stringify({
        roomName: "room",
        audioOnly: true,
        videoOnly: true,
        fileOutputs: [{ filepath: "a.mp4" }],
      }),
    );
    expect(JSON.parse(neither.text)).toMatchObject({ msg: invalid("audio_only and video_only") });
  });

  it("refuses codecs the container cannot hold", async () => {
    const ogg = new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: "video.ogg" });
    expectServerError(
      await failure(client.startRoomCompositeEgress("room", { file: ogg })),
      400,
      "invalid_argument",
      "no supported codec is compatible with all outputs",
    );
    const aacInOgg = await rawCall(
      "StartRoomCompositeEgress",
      JSON.stringify({
        roomName: "room",
        audioOnly: true,
        advanced: { audioCodec: "AAC" },
        fileOutputs: [{ fileType: "OGG", filepath: "a.ogg" }],
      }),
    );
    expect(JSON.parse(aacInOgg.text)).toMatchObject({
      msg: "format audio/ogg incompatible with codec audio/aac",
    });
    // Left to egress, the file type falls back to a container that fits: AAC goes into MP4.
    const aacDefault = await client.startRoomCompositeEgress(
      "room",
      { file: new EncodedFileOutput({ filepath: "audio-aac" }) },
      { audioOnly: true, encodingOptions: new EncodingOptions({ audioCodec: AudioCodec.AAC }) },
    );
    expect(aacDefault.fileResults[0]?.filename).toBe("audio-aac.mp4");
  });
});

describe("the egress fleet's failures", () => {
  it("answers 503 unavailable when every egress instance is busy, and admits again once one ends", async () => {
    // Refused at once here; the real timing of the refusal has its own test.
    emulator.setFaults({ capacity: 1, refusalDelayMs: 0 });
    const first = await client.startRoomCompositeEgress("room-c", { file: file("c1.mp4") });
    const refused = await failure(client.startRoomCompositeEgress("room-c", { file: file("c2.mp4") }));
    expectServerError(refused, 503, "unavailable", "no response from servers");
    expect((await client.listEgress("room-c")).map((info) => info.egressId)).toEqual([first.egressId]);

    await waitFor(async () =>
      (await client.listEgress({ egressId: first.egressId }))[0]?.status === EgressStatus.EGRESS_ACTIVE
        ? true
        : undefined,
    );
    await client.stopEgress(first.egressId);
    await emulator.idle();
    const again = await client.startRoomCompositeEgress("room-c", { file: file("c3.mp4") });
    expect(again.status).toBe(EgressStatus.EGRESS_STARTING);
  });

  it("answers a second stop failed_precondition and an unknown id not_found", async () => {
    const started = await client.startRoomCompositeEgress("room-s", { file: file("s.mp4") });
    await waitFor(() =>
      emulator.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined,
    );
    await client.stopEgress(started.egressId);
    await emulator.idle();
    expectServerError(
      await failure(client.stopEgress(started.egressId)),
      412,
      "failed_precondition",
      "egress with status EGRESS_COMPLETE cannot be stopped",
    );
    expectServerError(
      await failure(client.stopEgress("EG_doesnotexist")),
      404,
      "not_found",
      "egress does not exist",
    );
    expectServerError(
      await failure(client.listEgress({ egressId: "EG_doesnotexist" })),
      404,
      "not_found",
      "egress does not exist",
    );
  });

  it("leaves a crashed egress ACTIVE forever and times its stop out with deadline_exceeded", async () => {
    emulator.setFaults({ crashNext: 1 });
    const crashed = await client.startRoomCompositeEgress("room-x", { file: file("x.mp4") });
    await waitFor(() => (emulator.egress(crashed.egressId)?.crashed ? true : undefined));
    expectServerError(
      await failure(client.stopEgress(crashed.egressId)),
      408,
      "deadline_exceeded",
      "request timed out",
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [still] = await client.listEgress({ roomName: "room-x", active: true });
    expect(still?.status).toBe(EgressStatus.EGRESS_ACTIVE);
    expect(emulator.faults().crashNext).toBe(0);

    // The fault took one egress only; a crash by id works on any running one, STARTING too.
    emulator.setFaults({ activationDelayMs: 60_000 });
    const next = await client.startRoomCompositeEgress("room-x", { file: file("y.mp4") });
    expect(emulator.crashEgress(next.egressId).crashed).toBe(true);
    expectServerError(
      await failure(client.stopEgress(next.egressId)),
      408,
      "deadline_exceeded",
      "request timed out",
    );
    expect((await client.listEgress({ egressId: next.egressId }))[0]?.status).toBe(
      EgressStatus.EGRESS_STARTING,
    );
  });

  it("makes the next egress fail mid-way with the configured error", async () => {
    emulator.setFaults({ failNext: 1, failAfterMs: 30, failError: "pipeline frozen" });
    const doomed = await client.startRoomCompositeEgress("room-f", { file: file("f.mp4") });
    await waitFor(async () =>
      (await client.listEgress({ egressId: doomed.egressId }))[0]?.status === EgressStatus.EGRESS_FAILED
        ? true
        : undefined,
    );
    const [failed] = await client.listEgress({ egressId: doomed.egressId });
    expect(failed).toMatchObject({
      error: "pipeline frozen",
      errorCode: 503,
      details: "End reason: Failure",
    });
    expect(failed?.startedAt).toBeGreaterThan(0n);

    const byId = await client.startRoomCompositeEgress("room-f", { file: file("g.mp4") });
    expect(emulator.failEgress(byId.egressId, { error: "boom", errorCode: 500 }).info).toMatchObject({
      status: "EGRESS_FAILED",
      error: "boom",
      error_code: 500,
    });
  });

  it("creates the egress even when the client gives up waiting for a slow Start", async () => {
    emulator.setFaults({ startLatencyMs: 600 });
    const impatient = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret, {
      requestTimeout: 0.2,
    });
    const error = await failure(impatient.startRoomCompositeEgress("room-slow", { file: file("slow.mp4") }));
    expect(error.name).toMatch(/TimeoutError|AbortError/);

    const [orphan] = await client.listEgress("room-slow");
    // It exists and runs (STARTING or already ACTIVE, depending on how busy the machine is).
    expect([EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE]).toContain(orphan?.status);
    const recorded = await waitFor(() =>
      emulator.requests().find((request) => request.method === "StartRoomCompositeEgress"),
    );
    expect(recorded).toMatchObject({ status: 200, clientGone: true, egressId: orphan?.egressId });
  });
});
