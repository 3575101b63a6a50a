import {
  AccessToken,
  AudioCodec,
  EgressClient,
  EgressInfo,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  EncodingOptions,
  EncodingOptionsPreset,
  RoomCompositeEgressRequest,
  type S3Upload,
  VideoCodec,
} from "livekit-server-sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import {
  openRooms,
  type S3Recorder,
  s3UploadTo,
  startS3Recorder,
  untilEgressStatus,
  waitFor,
} from "./egress-support.ts";

const STORAGE_KEY = "recfleet-access";
const STORAGE_SECRET = "recfleet-storage-secret";

let s3: S3Recorder;
let emulator: LiveKitEmulator;
let client: EgressClient;

const s3Block = (overrides: Partial<S3Upload> = {}) => s3UploadTo(s3, STORAGE_KEY, STORAGE_SECRET, overrides);

function mp4Output(filepath: string, s3Overrides: Partial<S3Upload> = {}): EncodedFileOutput {
  return new EncodedFileOutput({
    fileType: EncodedFileType.MP4,
    filepath,
    output: { case: "s3", value: s3Block(s3Overrides) },
  });
}

const ADVANCED = {
  width: 1280,
  height: 720,
  depth: 24,
  framerate: 15,
  audioCodec: AudioCodec.AAC,
  audioBitrate: 64,
  audioFrequency: 48000,
  videoCodec: VideoCodec.H264_MAIN,
  videoBitrate: 600,
  keyFrameInterval: 4,
};

const untilStatus = (egressId: string, status: EgressStatus) => untilEgressStatus(client, egressId, status);

beforeAll(async () => {
  s3 = await startS3Recorder({ [STORAGE_KEY]: STORAGE_SECRET });
  emulator = await startLiveKitEmulator({ activationDelayMs: 20, logLevel: "error" });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
});

const ROOMS = [
  "room-pb",
  "room-quiet",
  "room-1",
  "room-2",
  "room-3",
  "room-4",
  "room-5",
  "room-6",
  "room-7",
  "room-a",
  "room-b",
  "room-cap",
  "room-legacy",
  "room-local",
  "room-names",
  "room-wire",
];

beforeEach(() => openRooms(emulator, ROOMS));

afterEach(async () => {
  await emulator.idle();
  emulator.reset();
  s3.objects.length = 0;
});

afterAll(async () => {
  await emulator.close();
  await s3.close();
});

describe("StartRoomCompositeEgress", () => {
  it("answers EGRESS_STARTING and keeps the exact request JSON the SDK sent", async () => {
    const info = await client.startRoomCompositeEgress(
      "room-1",
      { file: mp4Output("recordings/rec-1.mp4") },
      { layout: "speaker", encodingOptions: new EncodingOptions(ADVANCED) },
    );

    expect(info.egressId).toMatch(/^EG_[2-9A-HJ-NP-Za-km-z]{12}$/);
    expect(info.status).toBe(EgressStatus.EGRESS_STARTING);
    expect(info.roomName).toBe("room-1");
    expect(info.roomId).toMatch(/^RM_/);
    // Egress stamps the request when it takes it; the file's own start comes with ACTIVE.
    expect(info.startedAt).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
    expect(info.updatedAt).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
    expect(info.fileResults.map((file) => file.filename)).toEqual(["recordings/rec-1.mp4"]);
    // The request comes back under room_composite, with the storage credentials redacted.
    expect(info.request.case).toBe("roomComposite");
    const echoed = info.request.case === "roomComposite" ? info.request.value : undefined;
    const echoedFile = echoed?.fileOutputs[0];
    expect(echoedFile?.filepath).toBe("recordings/rec-1.mp4");
    expect(echoedFile?.output.case === "s3" && echoedFile.output.value).toMatchObject({
      accessKey: "{access_key}",
      secret: "{secret}",
      bucket: "recordings",
      endpoint: s3.url,
    });

    const [recorded] = emulator.requests();
    expect(recorded).toMatchObject({
      httpMethod: "POST",
      path: "/twirp/livekit.Egress/StartRoomCompositeEgress",
      method: "StartRoomCompositeEgress",
      contentType: "application/json;charset=UTF-8",
      authOk: true,
      roomRecord: true,
      status: 200,
      code: null,
      egressId: info.egressId,
    });
    expect(recorded?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(recorded?.body).toEqual({
      roomName: "room-1",
      layout: "speaker",
      advanced: {
        width: 1280,
        height: 720,
        depth: 24,
        framerate: 15,
        audioCodec: "AAC",
        audioBitrate: 64,
        audioFrequency: 48000,
        videoCodec: "H264_MAIN",
        videoBitrate: 600,
        keyFrameInterval: 4,
      },
      fileOutputs: [
        {
          fileType: "MP4",
          filepath: "recordings/rec-1.mp4",
          s3: {
            accessKey: STORAGE_KEY,
            secret: STORAGE_SECRET,
            region: "us-east-1",
            endpoint: s3.url,
            bucket: "recordings",
            forcePathStyle: true,
          },
        },
      ],
    });
  });

  it("accepts a bare EncodedFileOutput, which the SDK sends as both file and fileOutputs", async () => {
    const info = await client.startRoomCompositeEgress("room-legacy", mp4Output("legacy.mp4"));
    const body = emulator.requests()[0]?.body as Record<string, unknown>;
    expect(body.file).toMatchObject({ filepath: "legacy.mp4" });
    expect(body.fileOutputs).toEqual([body.file]);
    expect(info.fileResults[0]?.filename).toBe("legacy.mp4");
  });

  it("answers on the wire in snake_case with every default, enums as names and int64 as strings", async () => {
    emulator.setFaults({ activationDelayMs: 60_000 });
    const started = await client.startRoomCompositeEgress("room-wire", { file: mp4Output("wire.mp4") });
    const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
    token.addGrant({ roomRecord: true });
    const response = await fetch(`${emulator.url}/twirp/livekit.Egress/ListEgress`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token.toJwt()}` },
      body: JSON.stringify({ egressId: started.egressId }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    const json = (await response.json()) as { items: Record<string, unknown>[]; next_page_token: unknown };
    expect(json.next_page_token).toBeNull();
    const [item] = json.items;
    expect(item).toMatchObject({
      egress_id: started.egressId,
      room_name: "room-wire",
      status: "EGRESS_STARTING",
      source_type: "EGRESS_SOURCE_TYPE_WEB",
      ended_at: "0",
      error: "",
      error_code: 0,
      file_results: [{ filename: "wire.mp4", size: "0", duration: "0", location: "", started_at: "0" }],
      stream_results: [],
    });
    expect(typeof item?.updated_at).toBe("string");
    expect(item?.started_at).toMatch(/^[1-9]\d{18}$/);
    expect(item?.room_composite).toMatchObject({ room_name: "room-wire", audio_only: false, layout: "" });
  });

  it("speaks Twirp's protobuf encoding too", async () => {
    const token = new AccessToken(emulator.apiKey, emulator.apiSecret);
    token.addGrant({ roomRecord: true });
    const request = new RoomCompositeEgressRequest({
      roomName: "room-pb",
      fileOutputs: [mp4Output("pb.mp4")],
    });
    const response = await fetch(`${emulator.url}/twirp/livekit.Egress/StartRoomCompositeEgress`, {
      method: "POST",
      headers: { "content-type": "application/protobuf", authorization: `Bearer ${await token.toJwt()}` },
      body: request.toBinary(),
    });
    expect(response.headers.get("content-type")).toBe("application/protobuf");
    const info = EgressInfo.fromBinary(new Uint8Array(await response.arrayBuffer()));
    expect(info).toMatchObject({ roomName: "room-pb", status: EgressStatus.EGRESS_STARTING });
    expect(emulator.requests()[0]?.body).toMatchObject({
      roomName: "room-pb",
      fileOutputs: [{ filepath: "pb.mp4" }],
    });
  });

  it("names an unnamed file after the room and gives it the container's extension", async () => {
    const audio = new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: "audio/{room_name}.mp4" });
    const info = await client.startRoomCompositeEgress("room-names", { file: audio }, { audioOnly: true });
    expect(info.fileResults[0]?.filename).toBe("audio/room-names.ogg");
    const generated = await client.startRoomCompositeEgress("room-names", {
      file: new EncodedFileOutput({ filepath: "" }),
    });
    expect(generated.fileResults[0]?.filename).toMatch(/^room-names-\d{4}-\d{2}-\d{2}T\d{6}\.mp4$/);
  });
});

describe("the egress lifecycle", () => {
  it("goes ACTIVE, and a stop answers ENDING, then COMPLETE with the file uploaded to the request's bucket", async () => {
    const started = await client.startRoomCompositeEgress(
      "room-2",
      { file: mp4Output("recordings/rec-2.mp4") },
      { encodingOptions: new EncodingOptions(ADVANCED) },
    );
    await untilStatus(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await new Promise((resolve) => setTimeout(resolve, 150));

    const stopping = await client.stopEgress(started.egressId);
    expect(stopping.status).toBe(EgressStatus.EGRESS_ENDING);
    expect(stopping.details).toBe("End reason: StopEgress API");
    await untilStatus(started.egressId, EgressStatus.EGRESS_COMPLETE);

    const [done] = await client.listEgress({ egressId: started.egressId });
    const file = done?.fileResults[0];
    expect(file?.filename).toBe("recordings/rec-2.mp4");
    expect(file?.location).toBe(`${s3.url}/recordings/recordings/rec-2.mp4`);
    expect(done?.startedAt).toBeGreaterThan(0n);
    expect(done?.endedAt).toBeGreaterThan(done?.startedAt ?? 0n);
    expect(file?.duration).toBeGreaterThanOrEqual(150_000_000n);

    // The file, then the manifest egress writes beside it.
    expect(s3.objects.map((stored) => stored.key)).toEqual([
      "recordings/rec-2.mp4",
      `recordings/${started.egressId}.json`,
    ]);
    const [object, manifest] = s3.objects;
    expect(object).toMatchObject({
      bucket: "recordings",
      key: "recordings/rec-2.mp4",
      contentType: "video/mp4",
      contentDisposition: "inline",
      accessKey: STORAGE_KEY,
      region: "us-east-1",
    });
    expect(manifest).toMatchObject({ contentType: "application/json", contentDisposition: "inline" });
    expect(done?.manifestLocation).toBe(`${s3.url}/recordings/recordings/${started.egressId}.json`);
    const manifestText = manifest?.body.toString("utf8") ?? "";
    expect(manifestText.endsWith("}\n")).toBe(true);
    expect(JSON.parse(manifestText)).toEqual({
      egress_id: started.egressId,
      room_id: done?.roomId,
      room_name: "room-2",
      started_at: Number(done?.startedAt),
      ended_at: Number(done?.endedAt),
      files: [{ filename: "recordings/rec-2.mp4", location: file?.location }],
    });
    expect(object?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=recfleet-access\/\d{8}\/us-east-1\/s3\//,
    );
    expect(object?.body.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(BigInt(object?.body.length ?? 0)).toBe(file?.size);
    // (600 + 64) kbps for the active time, in bytes.
    const expected = (664_000 / 8) * (Number(file?.duration ?? 0n) / 1e9);
    expect(object?.body.length).toBeGreaterThan(expected * 0.8);
    expect(object?.body.length).toBeLessThan(expected * 1.2 + 64);
  });

  it("writes an audio-only recording as OGG sized by the audio bitrate alone", async () => {
    const output = new EncodedFileOutput({
      fileType: EncodedFileType.OGG,
      filepath: "audio/rec-3.ogg",
      output: { case: "s3", value: s3Block() },
    });
    const started = await client.startRoomCompositeEgress(
      "room-3",
      { file: output },
      {
        audioOnly: true,
        encodingOptions: new EncodingOptions({ audioCodec: AudioCodec.OPUS, audioBitrate: 64 }),
      },
    );
    await untilStatus(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.stopEgress(started.egressId);
    await untilStatus(started.egressId, EgressStatus.EGRESS_COMPLETE);

    const [done] = await client.listEgress({ egressId: started.egressId });
    const [object] = s3.objects;
    expect(object?.contentType).toBe("audio/ogg");
    expect(object?.body.subarray(0, 4).toString("latin1")).toBe("OggS");
    const seconds = Number(done?.fileResults[0]?.duration ?? 0n) / 1e9;
    expect(object?.body.length).toBeGreaterThan(8000 * seconds * 0.8);
    expect(object?.body.length).toBeLessThan(8000 * seconds * 1.2 + 64);
  });

  it("caps the file at the configured payload size", async () => {
    const capped = await startLiveKitEmulator({
      activationDelayMs: 0,
      payloadCapBytes: 2048,
      logLevel: "error",
    });
    try {
      openRooms(capped, ["room-cap"]);
      const sdk = new EgressClient(capped.url, capped.apiKey, capped.apiSecret);
      const started = await sdk.startRoomCompositeEgress(
        "room-cap",
        { file: mp4Output("cap.mp4") },
        { encodingOptions: EncodingOptionsPreset.H264_1080P_60 },
      );
      await waitFor(async () =>
        (await sdk.listEgress({ egressId: started.egressId }))[0]?.status ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await sdk.stopEgress(started.egressId);
      await capped.idle();
      const files = s3.objects.filter((object) => object.key === "cap.mp4");
      expect(files.map((object) => object.body.length)).toEqual([2048]);
      expect(capped.egress(started.egressId)?.bitrateKbps).toBe(6000 + 128);
    } finally {
      await capped.close();
    }
  });

  it("uploads a request without an s3 block with the emulator's own storage settings", async () => {
    const ownKey = "egress-own-key";
    const ownStorage = await startS3Recorder({ [ownKey]: "egress-own-secret" });
    const own = await startLiveKitEmulator({
      activationDelayMs: 0,
      logLevel: "error",
      defaultStorage: {
        endpoint: ownStorage.url,
        bucket: "egress-default",
        accessKey: ownKey,
        secret: "egress-own-secret",
        region: "eu-central-1",
      },
    });
    try {
      openRooms(own, ["room-4"]);
      const sdk = new EgressClient(own.url, own.apiKey, own.apiSecret);
      const started = await sdk.startRoomCompositeEgress("room-4", {
        file: new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: "own/rec-4.mp4" }),
      });
      await waitFor(() => (own.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined));
      await sdk.stopEgress(started.egressId);
      await own.idle();
      const [done] = await sdk.listEgress({ egressId: started.egressId });
      expect(done?.status).toBe(EgressStatus.EGRESS_COMPLETE);
      expect(done?.fileResults[0]?.location).toBe(`${ownStorage.url}/egress-default/own/rec-4.mp4`);
      expect(ownStorage.objects).toMatchObject([
        { bucket: "egress-default", key: "own/rec-4.mp4", region: "eu-central-1" },
        { bucket: "egress-default", key: `own/${started.egressId}.json`, region: "eu-central-1" },
      ]);
    } finally {
      await own.close();
      await ownStorage.close();
    }
  });

  it("keeps the file on the egress instance when neither the request nor the emulator names storage", async () => {
    const started = await client.startRoomCompositeEgress("room-local", {
      file: new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: "local/rec.mp4" }),
    });
    await untilStatus(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(started.egressId);
    await untilStatus(started.egressId, EgressStatus.EGRESS_COMPLETE);
    const [done] = await client.listEgress({ egressId: started.egressId });
    expect(done?.fileResults[0]?.location).toBe("local/rec.mp4");
    expect(emulator.egress(started.egressId)?.upload).toMatchObject({
      outcome: "kept-locally",
      contentType: "video/mp4",
    });
    expect(s3.objects).toHaveLength(0);
  });

  it("ends EGRESS_FAILED with the storage's error when the upload is refused", async () => {
    const started = await client.startRoomCompositeEgress("room-5", {
      file: mp4Output("refused.mp4", { secret: "not-the-storage-secret" }),
    });
    await untilStatus(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(started.egressId);
    await untilStatus(started.egressId, EgressStatus.EGRESS_FAILED);

    const [failed] = await client.listEgress({ egressId: started.egressId });
    expect(failed?.error).toMatch(/^S3 upload failed: /);
    expect(failed?.error).toContain("SignatureDoesNotMatch");
    expect(failed?.errorCode).toBe(400);
    expect(failed?.endedAt).toBeGreaterThan(0n);
    expect(s3.objects).toHaveLength(0);
    expect(s3.verdicts.at(-1)).toMatchObject({ method: "PUT", status: 403, reason: "SignatureDoesNotMatch" });
  });

  it("aborts an egress stopped before it went ACTIVE, without a file", async () => {
    emulator.setFaults({ activationDelayMs: 60_000 });
    const started = await client.startRoomCompositeEgress("room-6", { file: mp4Output("never.mp4") });
    const stopped = await client.stopEgress(started.egressId);
    expect(stopped.status).toBe(EgressStatus.EGRESS_ABORTED);
    expect(stopped.error).toBe("Stop called before pipeline could start");
    expect(stopped.errorCode).toBe(412);
    await emulator.idle();
    expect(s3.objects).toHaveLength(0);
  });

  it("ends an egress that reaches the maximum duration with EGRESS_LIMIT_REACHED and still uploads its file", async () => {
    emulator.setFaults({ maxDurationMs: 80 });
    const started = await client.startRoomCompositeEgress("room-7", { file: mp4Output("limit.mp4") });
    await waitFor(() => (emulator.egress(started.egressId)?.running === false ? true : undefined));

    const [ended] = await client.listEgress({ egressId: started.egressId });
    expect(ended?.status).toBe(EgressStatus.EGRESS_LIMIT_REACHED);
    expect(ended?.error).toBe("Session limit reached");
    expect(ended?.errorCode).toBe(413);
    expect(ended?.fileResults[0]?.size).toBeGreaterThan(0n);
    expect(s3.objects.map((object) => object.key)).toEqual(["limit.mp4", `${started.egressId}.json`]);
  });

  it("uploads no manifest when the request disables it, and keeps a Content-Disposition it gives", async () => {
    const output = mp4Output("quiet/rec.mp4", { contentDisposition: 'attachment; filename="rec.mp4"' });
    output.disableManifest = true;
    const started = await client.startRoomCompositeEgress("room-quiet", { file: output });
    await untilStatus(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(started.egressId);
    await untilStatus(started.egressId, EgressStatus.EGRESS_COMPLETE);
    expect(s3.objects).toMatchObject([
      { key: "quiet/rec.mp4", contentDisposition: 'attachment; filename="rec.mp4"' },
    ]);
    const [done] = await client.listEgress({ egressId: started.egressId });
    expect(done?.manifestLocation).toBe("");
  });
});

describe("ListEgress", () => {
  it("filters by room, by egress id and by active", async () => {
    const a1 = await client.startRoomCompositeEgress("room-a", { file: mp4Output("a1.mp4") });
    const a2 = await client.startRoomCompositeEgress("room-a", { file: mp4Output("a2.mp4") });
    const b1 = await client.startRoomCompositeEgress("room-b", { file: mp4Output("b1.mp4") });
    await untilStatus(a1.egressId, EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(a1.egressId);
    await untilStatus(a1.egressId, EgressStatus.EGRESS_COMPLETE);

    const ids = (items: { egressId: string }[]) => items.map((item) => item.egressId).sort();
    expect(ids(await client.listEgress())).toEqual([a1.egressId, a2.egressId, b1.egressId].sort());
    expect(ids(await client.listEgress("room-a"))).toEqual([a1.egressId, a2.egressId].sort());
    expect(ids(await client.listEgress({ roomName: "room-a", active: true }))).toEqual([a2.egressId]);
    expect(ids(await client.listEgress({ active: true }))).toEqual([a2.egressId, b1.egressId].sort());
    expect(ids(await client.listEgress({ egressId: b1.egressId }))).toEqual([b1.egressId]);
    expect(await client.listEgress("room-nobody")).toEqual([]);
  });
});
