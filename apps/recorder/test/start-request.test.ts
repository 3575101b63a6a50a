import {
  EgressInfo,
  EncodedFileType,
  type EncodingOptions,
  RoomCompositeEgressRequest,
} from "@livekit/protocol";
import { loadConfig, loadProfileCatalog } from "@recfleet/config";
import type { Recording } from "@recfleet/recordings";
import { describe, expect, it } from "vitest";
import {
  buildStartRequest,
  plannedOutput,
  requestedNamesOf,
  type StartRequest,
  writesPlannedOutput,
} from "../src/start-request.ts";

const { storage } = loadConfig(["storage"], {
  STORAGE_ACCESS_KEY: "egress-user",
  STORAGE_SECRET_KEY: "egress-secret",
  STORAGE_EGRESS_ENDPOINT: "http://minio:9000",
});
const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });
const recording = (kind: Recording["kind"], profile: string): Recording => ({
  tenant: "default",
  id: "0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b",
  room: "standup",
  kind,
  profile,
  layout: "grid",
  source: { type: "room" },
  outputs: null,
  encoding: null,
  customBaseUrl: null,
  notify: null,
  metadata: null,
  status: "starting",
  egressId: null,
  output: null,
  file: null,
  artifacts: [],
  streams: [],
  streamsAsOf: null,
  error: null,
  stopRequested: false,
  trigger: null,
  expireDays: null,
  expiresAt: null,
  deleteRequested: null,
  createdAt: "2026-11-22T10:00:00.000Z",
  updatedAt: "2026-11-22T10:00:00.000Z",
  startedAt: null,
  endedAt: null,
  timeline: [],
});

/** The Start request of a recording whose egress takes encoded outputs (every source but a track). */
function encodedStart(
  ...args: Parameters<typeof buildStartRequest>
): Exclude<StartRequest, { method: "track" }> {
  const request = buildStartRequest(...args);
  if (request.method === "track") throw new Error("a track egress request: no encoded outputs");
  return request;
}

describe("buildStartRequest", () => {
  it("writes the video file under the recordings prefix with the S3 upload of the config", () => {
    const request = encodedStart(recording("video", "low-cpu"), profiles, storage);
    expect(request.output.file?.filepath).toBe("recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4");
    expect(request.output.file?.fileType).toBe(EncodedFileType.MP4);
    expect(request.output.file?.toJson()).toEqual({
      fileType: "MP4",
      filepath: "recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4",
      s3: {
        accessKey: "egress-user",
        secret: "egress-secret",
        region: "us-east-1",
        endpoint: "http://minio:9000",
        bucket: "recordings",
        forcePathStyle: true,
      },
    });
    expect(request.options).toMatchObject({ layout: "grid", audioOnly: false });
  });

  it("records audio as OGG, audio only", () => {
    const request = encodedStart(recording("audio", "balanced"), profiles, storage);
    expect(request.output.file?.filepath.endsWith(".ogg")).toBe(true);
    expect(request.output.file?.fileType).toBe(EncodedFileType.OGG);
    expect(request.method === "roomComposite" && request.options.audioOnly).toBe(true);
  });

  it("applies a recording's encoding overrides on top of its profile, and its custom template", () => {
    const overridden = encodedStart(
      {
        ...recording("video", "low-cpu"),
        encoding: { width: 1920, height: 1080, videoBitrate: 2500, keyFrameInterval: 2 },
        customBaseUrl: "https://templates.example/recording/?brand=acme",
      },
      profiles,
      storage,
    );
    // low-cpu is 1280×720 at 15 fps, 600 kbps, 64 kbps audio: only what was asked changes.
    expect((overridden.options.encodingOptions as EncodingOptions).toJson()).toEqual({
      width: 1920,
      height: 1080,
      depth: 24,
      framerate: 15,
      audioCodec: "AAC",
      audioBitrate: 64,
      audioFrequency: 48000,
      videoCodec: "H264_MAIN",
      videoBitrate: 2500,
      keyFrameInterval: 2,
    });
    expect(overridden.method === "roomComposite" && overridden.options.customBaseUrl).toBe(
      "https://templates.example/recording/?brand=acme",
    );

    // A preset profile becomes explicit options from what its preset stands for.
    const fromPreset = encodedStart(
      { ...recording("video", "default"), encoding: { framerate: 15 } },
      profiles,
      storage,
    );
    expect((fromPreset.options.encodingOptions as EncodingOptions).toJson()).toMatchObject({
      width: 1280,
      height: 720,
      framerate: 15,
      videoBitrate: 3000,
      audioBitrate: 128,
      audioFrequency: 44100,
    });
    // Audio keeps only the audio bitrate.
    const audio = encodedStart(
      { ...recording("audio", "balanced"), encoding: { audioBitrate: 48 } },
      profiles,
      storage,
    );
    expect((audio.options.encodingOptions as EncodingOptions).toJson()).toEqual({
      audioCodec: "OPUS",
      audioBitrate: 48,
      audioFrequency: 48000,
    });
    expect(
      (
        encodedStart(recording("video", "low-cpu"), profiles, storage).options as {
          customBaseUrl?: string;
        }
      ).customBaseUrl,
    ).toBeUndefined();
  });

  it("asks for a participant egress or a track composite by the recording's source, with its profile", () => {
    const participant = encodedStart(
      {
        ...recording("video", "low-cpu"),
        source: { type: "participant", identity: "alice", screenShare: true },
      },
      profiles,
      storage,
    );
    expect(participant.method).toBe("participant");
    expect(participant.method === "participant" && participant.identity).toBe("alice");
    expect(participant.options).toMatchObject({ screenShare: true });
    expect((participant.options.encodingOptions as EncodingOptions).toJson()).toMatchObject({
      framerate: 15,
    });
    expect(participant.output.file?.fileType).toBe(EncodedFileType.MP4);
    const tracks = encodedStart(
      {
        ...recording("audio", "low-cpu"),
        source: { type: "tracks", audioTrackId: "TR_a", videoTrackId: null },
      },
      profiles,
      storage,
    );
    expect(tracks.method).toBe("trackComposite");
    expect(tracks.options).toMatchObject({ audioTrackId: "TR_a" });
    expect(tracks.options).not.toHaveProperty("videoTrackId");
    expect(tracks.output.file?.fileType).toBe(EncodedFileType.OGG);
  });

  it("asks track egress for a track's packets in the container its codec gave, with no encoding", () => {
    const track = {
      ...recording("video", "low-cpu"),
      profile: null,
      source: { type: "track" as const, trackId: "TR_cam" },
    };
    expect(() => buildStartRequest(track, profiles, storage)).toThrow(/unknown codec/);
    const planned = plannedOutput(track, profiles, storage, "webm");
    expect(planned.file).toMatchObject({
      filepath: `recordings/${track.id}.webm`,
      contentType: "video/webm",
    });
    const request = buildStartRequest({ ...track, output: planned }, profiles, storage);
    if (request.method !== "track") throw new Error(`expected a track egress, got ${request.method}`);
    expect(request.trackId).toBe("TR_cam");
    expect(request.roomName).toBe("standup");
    expect(request.output.toJson()).toMatchObject({
      filepath: `recordings/${track.id}.webm`,
      s3: { accessKey: "egress-user", bucket: "recordings", endpoint: "http://minio:9000" },
    });
    const info = new EgressInfo({
      request: {
        case: "track",
        value: { roomName: "standup", trackId: "TR_cam", output: { case: "file", value: request.output } },
      },
    });
    expect(requestedNamesOf(info).filepath).toBe(`recordings/${track.id}.webm`);
  });

  it("asks web egress for the page with the profile's encoding and the kind's audio", () => {
    const page = {
      ...recording("audio", "low-cpu"),
      source: { type: "web" as const, url: "https://boards.example/42", awaitStartSignal: true },
    };
    const request = encodedStart(page, profiles, storage);
    if (request.method !== "web") throw new Error(`expected a web egress, got ${request.method}`);
    expect(request.url).toBe("https://boards.example/42");
    expect(request.options).toMatchObject({ audioOnly: true, awaitStartSignal: true });
    expect(request.output.file?.fileType).toBe(EncodedFileType.OGG);
  });

  it("reads the file path back from a participant or track composite egress too", () => {
    const file = { filepath: "recordings/x.mp4" };
    for (const request of [
      { case: "participant" as const, value: { fileOutputs: [file] } },
      { case: "trackComposite" as const, value: { fileOutputs: [file] } },
    ]) {
      expect(
        requestedNamesOf(new EgressInfo({ request } as ConstructorParameters<typeof EgressInfo>[0])).filepath,
      ).toBe("recordings/x.mp4");
    }
  });

  it("sends no upload block when egress has its own storage settings", () => {
    const request = encodedStart(recording("video", "default"), profiles, {
      ...storage,
      egressUpload: false,
    });
    expect(request.output.file?.toJson()).toEqual({
      fileType: "MP4",
      filepath: "recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4",
    });
    expect(request.options.encodingOptions).toBeUndefined();
  });

  it("reads the file path back from the request an egress echoes", () => {
    const request = encodedStart(recording("video", "low-cpu"), profiles, storage);
    const info = new EgressInfo({
      egressId: "EG_1",
      request: {
        case: "roomComposite",
        value: new RoomCompositeEgressRequest({
          roomName: "standup",
          ...(request.output.file ? { fileOutputs: [request.output.file] } : {}),
        }),
      },
    });
    expect(requestedNamesOf(info).filepath).toBe(request.output.file?.filepath);
  });

  it("plans the key egress will write: its storage prefix joined to the filepath, and the backup's", () => {
    const output = plannedOutput(recording("video", "low-cpu"), profiles, {
      ...storage,
      egressPrefix: "tenant-a/",
      egressBackupBucket: "recordings-backup",
      egressBackupPrefix: "spill",
    });
    expect(output).toEqual({
      bucket: "recordings",
      file: {
        filepath: "recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4",
        key: "tenant-a/recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4",
        contentType: "video/mp4",
        backup: {
          bucket: "recordings-backup",
          key: "spill/recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4",
        },
      },
      hls: null,
      images: null,
    });
  });

  it("asks egress for the stored filepath, not one planned from today's settings", () => {
    const stored = {
      ...recording("video", "low-cpu"),
      output: plannedOutput(recording("video", "low-cpu"), profiles, storage),
    };
    const request = encodedStart(stored, profiles, { ...storage, prefix: "moved" });
    expect(request.output.file?.filepath).toBe("recordings/0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b.mp4");
  });

  it("asks for HLS segments and thumbnails in the recording's directory, beside or without a file", () => {
    const id = "0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b";
    const withAll: Recording = {
      ...recording("video", "low-cpu"),
      source: { type: "participant", identity: "alice", screenShare: false },
      outputs: [
        { type: "hls", segmentSeconds: 2, livePlaylist: true },
        { type: "images", intervalSeconds: 5, width: 320, height: 180 },
      ],
    };
    const planned = plannedOutput(withAll, profiles, { ...storage, egressPrefix: "eu" });
    expect(planned).toEqual({
      bucket: "recordings",
      file: null,
      hls: {
        playlistName: `recordings/${id}/playlist.m3u8`,
        playlistKey: `eu/recordings/${id}/playlist.m3u8`,
        livePlaylistKey: `eu/recordings/${id}/live.m3u8`,
        segmentKeyPrefix: `eu/recordings/${id}/seg_`,
      },
      images: {
        filenamePrefix: `recordings/${id}/img`,
        keyPrefix: `eu/recordings/${id}/img`,
        dir: `eu/recordings/${id}/`,
      },
    });
    const request = encodedStart(withAll, profiles, storage);
    expect(request.output.file).toBeUndefined();
    expect(request.output.segments?.toJson()).toMatchObject({
      filenamePrefix: `recordings/${id}/seg`,
      playlistName: `recordings/${id}/playlist.m3u8`,
      livePlaylistName: `recordings/${id}/live.m3u8`,
      segmentDuration: 2,
      s3: { bucket: "recordings", secret: "egress-secret" },
    });
    expect(request.output.images?.toJson()).toMatchObject({
      captureInterval: 5,
      width: 320,
      height: 180,
      filenamePrefix: `recordings/${id}/img`,
      s3: { bucket: "recordings" },
    });
    // An egress is this recording's when it writes the playlist planned for it.
    const echoed = (playlistName: string) =>
      new EgressInfo({
        egressId: "EG_2",
        request: { case: "participant", value: { segmentOutputs: [{ playlistName }] } },
      } as ConstructorParameters<typeof EgressInfo>[0]);
    expect(writesPlannedOutput(echoed(`recordings/${id}/playlist.m3u8`), planned, [])).toBe(true);
    expect(writesPlannedOutput(echoed("recordings/other/playlist.m3u8"), planned, [])).toBe(false);
  });
});
