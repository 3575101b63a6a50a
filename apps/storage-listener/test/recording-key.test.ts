import { describe, expect, it } from "vitest";
import { parseRecordingKey } from "../src/recording-key.ts";

const id = "0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b";

describe("parseRecordingKey", () => {
  it("matches <prefix>/<recordingId>.<mp4|ogg|webm>", () => {
    expect(parseRecordingKey(`recordings/${id}.mp4`, "recordings")).toEqual({
      recordingId: id,
      place: "file",
      key: `recordings/${id}.mp4`,
    });
    expect(parseRecordingKey(`meet/recordings/${id}.ogg`, "meet/recordings")?.place).toBe("file");
    // A VP8 or VP9 track's file: track egress writes it as WebM.
    expect(parseRecordingKey(`recordings/${id}.webm`, "recordings")?.place).toBe("file");
  });

  it("matches the objects of a recording's directory <prefix>/<recordingId>/<name>", () => {
    expect(parseRecordingKey(`recordings/${id}/playlist.m3u8`, "recordings")).toEqual({
      recordingId: id,
      place: "directory",
      key: `recordings/${id}/playlist.m3u8`,
    });
    expect(parseRecordingKey(`recordings/${id}/seg_00003.ts`, "recordings")?.place).toBe("directory");
  });

  it("accepts a URL-encoded key, as configured MinIO targets send them", () => {
    expect(parseRecordingKey(`recordings%2F${id}.mp4`, "recordings")?.key).toBe(`recordings/${id}.mp4`);
  });

  it.each([
    [`recordings/${id}.mkv`, "another extension"],
    [`recordings/${id}.mp4.part`, "a temporary file"],
    [`other/${id}.mp4`, "another prefix"],
    [`recordings/nested/${id}.mp4`, "a nested path"],
    [`recordings/not-a-recording.mp4`, "not a recording id"],
    [`recordings/0193a8b0-7c2e-4d4f-8a1b-2c3d4e5f6a7b.mp4`, "a UUID that is not v7"],
    [`recordings%ZZ${id}.mp4`, "broken escaping"],
    [`recordings/${id}/`, "the directory itself"],
    [`recordings/${id}/deeper/seg_00000.ts`, "a subdirectory of the recording's directory"],
  ])("ignores %s (%s)", (key) => {
    expect(parseRecordingKey(key, "recordings")).toBeUndefined();
  });
});
