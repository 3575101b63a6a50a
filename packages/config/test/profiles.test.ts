import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AudioCodec,
  EncodedFileType,
  EncodingOptions,
  EncodingOptionsPreset,
  RoomCompositeEgressRequest,
} from "@livekit/protocol";
import { describe, expect, it } from "vitest";
import { egressEncodingFor } from "../src/egress.ts";
import {
  BUILTIN_PROFILES,
  ConfigError,
  type EncodingProfile,
  estimateSizeMB,
  loadProfileCatalog,
} from "../src/index.ts";

const builtin = (name: string): EncodingProfile => {
  const profile = BUILTIN_PROFILES.find((p) => p.name === name);
  if (!profile) throw new Error(`no built-in profile ${name}`);
  return profile;
};

function writeProfiles(content: string, extension = "yaml"): string {
  const path = join(mkdtempSync(join(tmpdir(), "recfleet-profiles-")), `profiles.${extension}`);
  writeFileSync(path, content);
  return path;
}

describe("built-in profiles", () => {
  it("match the reference table", () => {
    const table = BUILTIN_PROFILES.filter((p) => p.type === "advanced").map((p) => [
      p.name,
      p.width,
      p.height,
      p.framerate,
      p.videoBitrate,
      p.audioBitrate,
      p.keyFrameInterval,
      p.videoCodec,
      p.audioFrequency,
      p.depth,
    ]);
    expect(table).toEqual([
      ["balanced", 1280, 720, 20, 1000, 96, 4, "H264_MAIN", 48000, 24],
      ["low-cpu", 1280, 720, 15, 600, 64, 4, "H264_MAIN", 48000, 24],
      ["slide-heavy", 1280, 720, 15, 900, 64, 4, "H264_MAIN", 48000, 24],
      ["minimum-cpu", 960, 540, 15, 500, 64, 4, "H264_MAIN", 48000, 24],
      ["audio-heavy", 1280, 720, 10, 400, 96, 4, "H264_MAIN", 48000, 24],
    ]);
    expect(builtin("default")).toMatchObject({ type: "preset", preset: "H264_720P_30" });
  });
});

describe("egressEncodingFor", () => {
  it("sends nothing for the default profile, so egress behaves exactly as by default", () => {
    const encoding = egressEncodingFor(builtin("default"), "video");
    expect(encoding).toEqual({ fileType: EncodedFileType.MP4, extension: "mp4", audioOnly: false });
    const request = new RoomCompositeEgressRequest({ roomName: "r1", options: { case: undefined } });
    expect(request.toJson()).toEqual({ roomName: "r1" });
  });

  it("sends advanced EncodingOptions for an advanced video profile", () => {
    const encoding = egressEncodingFor(builtin("low-cpu"), "video");
    expect(encoding.fileType).toBe(EncodedFileType.MP4);
    expect(encoding.encodingOptions).toBeInstanceOf(EncodingOptions);
    const request = new RoomCompositeEgressRequest({
      roomName: "r1",
      layout: "speaker",
      options: { case: "advanced", value: encoding.encodingOptions as EncodingOptions },
    });
    // The exact wire JSON egress receives (camelCase, enum names, defaults omitted).
    expect(request.toJson()).toEqual({
      roomName: "r1",
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
    });
  });

  it("keeps only the audio settings, as Opus in OGG, for an audio recording", () => {
    const encoding = egressEncodingFor(builtin("balanced"), "audio");
    expect(encoding).toMatchObject({ fileType: EncodedFileType.OGG, extension: "ogg", audioOnly: true });
    const options = encoding.encodingOptions as EncodingOptions;
    expect(options.audioCodec).toBe(AudioCodec.OPUS);
    expect(options.toJson()).toEqual({ audioCodec: "OPUS", audioBitrate: 96, audioFrequency: 48000 });
    expect(egressEncodingFor(builtin("default"), "audio").encodingOptions).toBeUndefined();
  });

  it("sends a non-default preset as a preset", () => {
    const hd: EncodingProfile = { name: "hd", type: "preset", preset: "H264_1080P_30", description: "" };
    expect(egressEncodingFor(hd, "video").encodingOptions).toBe(EncodingOptionsPreset.H264_1080P_30);
  });
});

describe("estimateSizeMB", () => {
  it("is (video + audio kbps) × seconds ÷ 8 ÷ 1000", () => {
    expect(estimateSizeMB(builtin("low-cpu"), 1800)).toBeCloseTo(149.4, 1);
    expect(estimateSizeMB(builtin("balanced"), 1800)).toBeCloseTo(246.6, 1);
    expect(estimateSizeMB(builtin("default"), 1800)).toBeCloseTo(703.8, 1);
    expect(estimateSizeMB(builtin("low-cpu"), 1800, "audio")).toBeCloseTo(14.4, 1);
  });
});

describe("loadProfileCatalog", () => {
  it("adds and overrides profiles from a YAML file", () => {
    const file = writeProfiles(`profiles:
  lecture:
    width: 1920
    height: 1080
    framerate: 15
    videoBitrate: 1200
    audioBitrate: 96
    keyFrameInterval: 2
  balanced:
    preset: H264_1080P_30
`);
    const catalog = loadProfileCatalog({ file, defaultName: "lecture", defaultLayout: "speaker" });
    expect(catalog.defaultName).toBe("lecture");
    expect(catalog.get("lecture")).toMatchObject({
      type: "advanced",
      width: 1920,
      videoCodec: "H264_MAIN",
      depth: 24,
    });
    expect(catalog.get("balanced")).toMatchObject({ type: "preset", preset: "H264_1080P_30" });
    expect(catalog.names).toContain("low-cpu");
  });

  it("applies egress' rules and names the profile and the field", () => {
    const file = writeProfiles(
      JSON.stringify({
        profiles: {
          odd: {
            width: 1281,
            height: 8,
            framerate: 61,
            videoBitrate: -1,
            audioBitrate: 64,
            keyFrameInterval: 25,
            depth: 12,
          },
          "Bad Name": { preset: "H264_720P_30" },
          typo: { preset: "H264_4K" },
        },
      }),
      "json",
    );
    let error: unknown;
    try {
      loadProfileCatalog({ file, defaultName: "low-cpu", defaultLayout: "speaker" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split("\n")).toEqual([
      'config: PROFILES_FILE: profile "odd": width must be even and at least 16',
      'config: PROFILES_FILE: profile "odd": height must be even and at least 16',
      'config: PROFILES_FILE: profile "odd": framerate must be from 1 to 60',
      'config: PROFILES_FILE: profile "odd": videoBitrate must be positive',
      'config: PROFILES_FILE: profile "odd": keyFrameInterval must be more than 0 and at most 20 seconds',
      'config: PROFILES_FILE: profile "odd": depth must be 8, 16 or 24',
      `config: PROFILES_FILE: profile "Bad Name": the name must be lowercase letters, digits and '-', at most 63 characters`,
      expect.stringMatching(/^config: PROFILES_FILE: profile "typo": preset must be one of H264_720P_30, /),
    ]);
  });

  it("rejects an unknown default profile, listing the known ones", () => {
    expect(() => loadProfileCatalog({ file: "", defaultName: "fast", defaultLayout: "speaker" })).toThrow(
      'config: DEFAULT_PROFILE: unknown profile "fast"; known profiles: default, balanced, low-cpu, slide-heavy, minimum-cpu, audio-heavy',
    );
  });

  it("reports an unreadable file", () => {
    expect(() =>
      loadProfileCatalog({
        file: "/nonexistent/profiles.yaml",
        defaultName: "low-cpu",
        defaultLayout: "speaker",
      }),
    ).toThrow("config: PROFILES_FILE: cannot read /nonexistent/profiles.yaml (ENOENT)");
  });
});
