import jpeg from "jpeg-js";
import { EgressClient, EgressStatus, ImageOutput, SegmentedFileOutput } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import {
  type S3Recorder,
  type StoredObject,
  s3UploadTo,
  startS3Recorder,
  untilEgressStatus,
  waitFor,
} from "./egress-support.ts";

// HLS and image outputs as egress writes them (livekit/egress pkg/pipeline/sink/segments.go,
// m3u8/writer.go, image.go; pkg/config/output_segment.go, output_image.go, manifest.go).

const STORAGE_KEY = "outputs-access";
const STORAGE_SECRET = "outputs-storage-secret";

let s3: S3Recorder;
let emulator: LiveKitEmulator;
let client: EgressClient;

const upload = () => ({ case: "s3" as const, value: s3UploadTo(s3, STORAGE_KEY, STORAGE_SECRET) });
const until = (egressId: string, status: EgressStatus) => untilEgressStatus(client, egressId, status);

/** The last version of each key PUT, and the order of every PUT. */
function latest(prefix: string): Map<string, StoredObject> {
  const found = new Map<string, StoredObject>();
  for (const object of s3.objects) if (object.key.startsWith(prefix)) found.set(object.key, object);
  return found;
}

function segmentsOf(playlist: string): string[] {
  return playlist.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

beforeAll(async () => {
  s3 = await startS3Recorder({ [STORAGE_KEY]: STORAGE_SECRET });
  emulator = await startLiveKitEmulator({ activationDelayMs: 20, logLevel: "error" });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
});
afterAll(async () => {
  await emulator?.close();
  await s3?.close();
});

describe("segment and image outputs", () => {
  it("uploads segments and a rewritten playlist while recording, closes it at the end, and takes JPEG thumbnails", async () => {
    emulator.join("outputs-1", { identity: "alice", publish: ["microphone", "camera"] });
    const segments = new SegmentedFileOutput({
      filenamePrefix: "rec/alice/seg",
      playlistName: "rec/alice/playlist.m3u8",
      livePlaylistName: "rec/alice/live.m3u8",
      segmentDuration: 1,
      output: upload(),
    });
    const images = new ImageOutput({
      captureInterval: 1,
      width: 64,
      height: 36,
      filenamePrefix: "rec/alice/img",
      output: upload(),
    });
    const started = await client.startParticipantEgress("outputs-1", "alice", { segments, images });
    expect(started.segmentResults[0]?.playlistName).toBe("rec/alice/playlist.m3u8");
    expect(started.segmentResults[0]?.livePlaylistName).toBe("rec/alice/live.m3u8");
    expect(started.imageResults[0]?.filenamePrefix).toBe("rec/alice/img");
    expect(started.fileResults).toEqual([]);
    // Both outputs: no deprecated single result.
    expect(started.result.case).toBeUndefined();
    const request = started.request.case === "participant" ? started.request.value : undefined;
    const segmentUpload = request?.segmentOutputs[0]?.output;
    expect(segmentUpload?.case === "s3" && segmentUpload.value.secret).toBe("{secret}");
    await until(started.egressId, EgressStatus.EGRESS_ACTIVE);

    // While it records: segments land, and the playlist is there without #EXT-X-ENDLIST.
    const live = await waitFor(() => {
      const playlist = latest("rec/alice/").get("rec/alice/playlist.m3u8");
      const text = playlist?.body.toString("utf8") ?? "";
      return segmentsOf(text).length >= 2 ? text : undefined;
    });
    expect(live).not.toContain("#EXT-X-ENDLIST");
    expect(live).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(latest("rec/alice/").get("rec/alice/playlist.m3u8")?.contentType).toBe("application/x-mpegurl");

    await client.stopEgress(started.egressId);
    const ended = await until(started.egressId, EgressStatus.EGRESS_COMPLETE);
    const objects = latest("rec/alice/");
    const final = objects.get("rec/alice/playlist.m3u8")?.body.toString("utf8") ?? "";
    expect(final.startsWith("#EXTM3U\n#EXT-X-VERSION:4\n")).toBe(true);
    expect(final).toContain("#EXT-X-TARGETDURATION:1\n");
    expect(final.endsWith("#EXT-X-ENDLIST\n")).toBe(true);
    const listed = segmentsOf(final);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    listed.forEach((name, index) => {
      expect(name).toBe(`seg_${String(index).padStart(5, "0")}.ts`);
      const segment = objects.get(`rec/alice/${name}`);
      expect(segment?.contentType).toBe("video/mp2t");
      expect(segment?.body[0]).toBe(0x47);
      // A playlist never names a segment before the segment is in storage.
      const firstListing = s3.objects.findIndex(
        (object) => object.key === "rec/alice/playlist.m3u8" && object.body.toString("utf8").includes(name),
      );
      const segmentPut = s3.objects.findIndex((object) => object.key === `rec/alice/${name}`);
      expect(segmentPut).toBeLessThan(firstListing);
    });
    expect(ended.segmentResults[0]?.segmentCount).toBe(BigInt(listed.length));
    expect(ended.segmentResults[0]?.playlistLocation).toContain("rec/alice/playlist.m3u8");

    // The live playlist: the last five segments, numbered from where its window starts.
    const livePlaylist = objects.get("rec/alice/live.m3u8")?.body.toString("utf8") ?? "";
    const window = segmentsOf(livePlaylist);
    expect(window).toEqual(listed.slice(-5));
    expect(livePlaylist).toContain(`#EXT-X-MEDIA-SEQUENCE:${listed.length - window.length}\n`);
    expect(livePlaylist.endsWith("#EXT-X-ENDLIST\n")).toBe(true);

    const thumbnails = [...objects.keys()].filter((key) => /^rec\/alice\/img_\d{5}\.jpeg$/.test(key)).sort();
    expect(thumbnails[0]).toBe("rec/alice/img_00000.jpeg");
    expect(ended.imageResults[0]?.imageCount).toBe(BigInt(thumbnails.length));
    for (const key of thumbnails) {
      const image = objects.get(key);
      expect(image?.contentType).toBe("image/jpeg");
      const decoded = jpeg.decode(image?.body ?? Buffer.alloc(0));
      expect([decoded.width, decoded.height]).toEqual([64, 36]);
    }

    // Last of all, the manifest in the outputs' directory, listing the segments and images.
    const manifestKey = `rec/alice/${started.egressId}.json`;
    const manifest = JSON.parse(objects.get(manifestKey)?.body.toString("utf8") ?? "{}");
    expect(manifest.egress_id).toBe(started.egressId);
    expect(manifest.playlists[0].segments.map((segment: { filename: string }) => segment.filename)).toEqual(
      listed.map((name) => `rec/alice/${name}`),
    );
    expect(manifest.images.map((image: { filename: string }) => image.filename).sort()).toEqual(thumbnails);
    const lastKey = s3.objects.filter((object) => object.key.startsWith("rec/alice/")).at(-1)?.key;
    expect(lastKey).toBe(manifestKey);
  });

  it("refuses what egress refuses: images of audio only, a live playlist in another directory, no output", async () => {
    emulator.join("outputs-2", { identity: "bob", publish: ["microphone", "camera"] });
    const images = new ImageOutput({ filenamePrefix: "rec/bob/img", output: upload() });
    await expect(
      client.startTrackCompositeEgress("outputs-2", { images }, { audioTrackId: "TR_none" }),
    ).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: audio_only images",
    });
    const segments = new SegmentedFileOutput({
      playlistName: "rec/bob/playlist.m3u8",
      livePlaylistName: "elsewhere/live.m3u8",
      output: upload(),
    });
    await expect(client.startParticipantEgress("outputs-2", "bob", { segments })).rejects.toMatchObject({
      status: 400,
      message:
        "request has missing or invalid field: live_playlist_name must be in same directory as playlist_name",
    });
    await expect(client.startParticipantEgress("outputs-2", "bob", {})).rejects.toMatchObject({
      status: 400,
      message: "request has missing or invalid field: output",
    });
  });
});
