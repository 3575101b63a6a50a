import { EgressClient, EgressStatus, EncodedFileOutput, EncodedFileType } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import {
  type S3Recorder,
  s3UploadTo,
  startS3Recorder,
  untilEgressStatus,
  waitFor,
} from "./egress-support.ts";

// Participant and track composite egress: egress' SDK source, which waits for its participant
// or tracks (livekit/egress pkg/pipeline/source/sdk.go, subscriptionTimeout) and ends when its
// participant leaves.

const STORAGE_KEY = "sources-access";
const STORAGE_SECRET = "sources-storage-secret";
const WAIT_MS = 400;

let s3: S3Recorder;
let emulator: LiveKitEmulator;
let client: EgressClient;

const file = (filepath: string, fileType = EncodedFileType.MP4) =>
  new EncodedFileOutput({
    fileType,
    filepath,
    output: { case: "s3", value: s3UploadTo(s3, STORAGE_KEY, STORAGE_SECRET) },
  });

const until = (egressId: string, status: EgressStatus) => untilEgressStatus(client, egressId, status);

beforeAll(async () => {
  s3 = await startS3Recorder({ [STORAGE_KEY]: STORAGE_SECRET });
  emulator = await startLiveKitEmulator({ activationDelayMs: 20, sourceWaitMs: WAIT_MS, logLevel: "error" });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
});
afterAll(async () => {
  await emulator?.close();
  await s3?.close();
});

describe("participant egress", () => {
  it("records one participant once it publishes, as an SDK source, and ends when it leaves", async () => {
    emulator.join("sources-1", { identity: "alice", publish: ["microphone", "camera"] });
    emulator.join("sources-1", { identity: "bob", publish: ["microphone"] });
    const info = await client.startParticipantEgress(
      "sources-1",
      "alice",
      { file: file("p/alice.mp4") },
      { screenShare: true },
    );
    expect(info.status).toBe(EgressStatus.EGRESS_STARTING);
    expect(info.request.case).toBe("participant");
    expect(info.request.case === "participant" && info.request.value.identity).toBe("alice");
    expect(
      info.request.case === "participant" && info.request.value.fileOutputs[0]?.output.case === "s3"
        ? info.request.value.fileOutputs[0].output.value.secret
        : undefined,
    ).toBe("{secret}");
    await until(info.egressId, EgressStatus.EGRESS_ACTIVE);
    emulator.leave("sources-1", "alice");
    const ended = await until(info.egressId, EgressStatus.EGRESS_COMPLETE);
    expect(ended.details).toBe("End reason: Source closed");
    expect(ended.fileResults[0]?.filename).toBe("p/alice.mp4");
    await waitFor(() => (s3.objects.some((object) => object.key === "p/alice.mp4") ? true : undefined));
  });

  it("waits for a participant who has not joined, and fails 'participant … not found' after egress' wait", async () => {
    emulator.join("sources-2", { identity: "host", publish: ["camera"] });
    const late = await client.startParticipantEgress("sources-2", "carol", { file: file("p/carol.mp4") });
    const waiting = await client.startParticipantEgress("sources-2", "dave", { file: file("p/dave.mp4") });
    // Carol comes within the wait and is recorded; Dave never does.
    emulator.join("sources-2", { identity: "carol", publish: ["microphone"] });
    await until(late.egressId, EgressStatus.EGRESS_ACTIVE);
    const failed = await until(waiting.egressId, EgressStatus.EGRESS_FAILED);
    expect(failed.error).toBe("participant dave not found");
    expect(failed.errorCode).toBe(404);
    await client.stopEgress(late.egressId);
  });

  it("refuses what egress refuses: no identity, an audio-only container for audio and video, a missing room", async () => {
    emulator.join("sources-3", { identity: "erin", publish: ["camera"] });
    await expect(
      client.startParticipantEgress("sources-3", "", { file: file("p/x.mp4") }),
    ).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: identity",
    });
    await expect(
      client.startParticipantEgress("sources-3", "erin", { file: file("p/x.ogg", EncodedFileType.OGG) }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.startParticipantEgress("no-such-room", "erin", { file: file("p/x.mp4") }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe("track composite egress", () => {
  it("records the chosen tracks once both are published, and fails for a track that never is", async () => {
    const participant = emulator.join("sources-4", {
      identity: "frank",
      publish: ["microphone", "camera"],
    }) as {
      tracks: { sid: string; type: string }[];
    };
    const audio = participant.tracks.find((track) => track.type === "AUDIO")?.sid ?? "";
    const video = participant.tracks.find((track) => track.type === "VIDEO")?.sid ?? "";
    const both = await client.startTrackCompositeEgress(
      "sources-4",
      { file: file("t/both.mp4") },
      {
        audioTrackId: audio,
        videoTrackId: video,
      },
    );
    expect(both.request.case).toBe("trackComposite");
    await until(both.egressId, EgressStatus.EGRESS_ACTIVE);
    const audioOnly = await client.startTrackCompositeEgress(
      "sources-4",
      { file: file("t/audio.ogg", EncodedFileType.OGG) },
      { audioTrackId: audio },
    );
    await until(audioOnly.egressId, EgressStatus.EGRESS_ACTIVE);
    const missing = await client.startTrackCompositeEgress(
      "sources-4",
      { file: file("t/none.mp4") },
      {
        audioTrackId: audio,
        videoTrackId: "TR_never",
      },
    );
    expect((await until(missing.egressId, EgressStatus.EGRESS_FAILED)).error).toBe(
      "track TR_never not found",
    );
    await expect(
      client.startTrackCompositeEgress("sources-4", { file: file("t/x.mp4") }, {}),
    ).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: audio_track_id or video_track_id",
    });
    await client.stopEgress(both.egressId);
    await client.stopEgress(audioOnly.egressId);
  });
});

describe("UpdateLayout", () => {
  it("changes a running room composite's layout, keeps the request's in EgressInfo, and refuses others", async () => {
    emulator.join("layout-1", { identity: "gina", publish: ["camera", "microphone"] });
    const info = await client.startRoomCompositeEgress(
      "layout-1",
      { file: file("l/room.mp4") },
      { layout: "speaker" },
    );
    await until(info.egressId, EgressStatus.EGRESS_ACTIVE);
    const answer = await client.updateLayout(info.egressId, "grid-light");
    expect(answer.request.case === "roomComposite" && answer.request.value.layout).toBe("speaker");
    expect(emulator.egress(info.egressId)?.layout).toBe("grid-light");
    await expect(client.updateLayout("EG_unknown", "grid")).rejects.toMatchObject({
      status: 404,
      message: "egress does not exist",
    });
    await client.stopEgress(info.egressId);
    await until(info.egressId, EgressStatus.EGRESS_COMPLETE);
    // Ended: its participant left the room.
    await expect(client.updateLayout(info.egressId, "grid")).rejects.toMatchObject({
      status: 404,
      message: "participant does not exist",
    });
  });
});
