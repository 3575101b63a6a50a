import { describe, expect, it } from "vitest";
import {
  checkArtifacts,
  finalObjectContentType,
  type ObjectInfo,
  parsePlaylist,
  type StorageReader,
} from "../src/artifacts.ts";
import type { RecordingOutput } from "../src/model.ts";

const ID = "0193a8b0-7c2e-7d4f-8a1b-2c3d4e5f6a7b";
const DIR = `eu/recordings/${ID}/`;

const output: RecordingOutput = {
  bucket: "recordings",
  file: {
    filepath: `recordings/${ID}.mp4`,
    key: `eu/recordings/${ID}.mp4`,
    contentType: "video/mp4",
    backup: null,
  },
  hls: {
    playlistName: `recordings/${ID}/playlist.m3u8`,
    playlistKey: `${DIR}playlist.m3u8`,
    livePlaylistKey: null,
    segmentKeyPrefix: `${DIR}seg_`,
  },
  images: { filenamePrefix: `recordings/${ID}/img`, keyPrefix: `${DIR}img`, dir: DIR },
};
const recording = { output, egressId: "EG_abc" };

const playlist = (segments: string[], ended: boolean) =>
  [
    "#EXTM3U",
    "#EXT-X-VERSION:4",
    "#EXT-X-PLAYLIST-TYPE:EVENT",
    "#EXT-X-TARGETDURATION:2",
    "#EXT-X-MEDIA-SEQUENCE:0",
    ...segments.flatMap((name) => ["#EXTINF:2.000,", name]),
    ...(ended ? ["#EXT-X-ENDLIST"] : []),
    "",
  ].join("\n");

/** An in-memory bucket that counts the reads it answers. */
function bucket(objects: Record<string, { body: string; contentType: string }>) {
  const reads: string[] = [];
  const reader: StorageReader = {
    async stat(bucketName, key): Promise<ObjectInfo | null> {
      reads.push(`stat ${key}`);
      const object = bucketName === "recordings" ? objects[key] : undefined;
      return object ? { size: object.body.length, etag: "e", contentType: object.contentType } : null;
    },
    async readText(bucketName, key, maxBytes) {
      reads.push(`get ${key}`);
      const object = bucketName === "recordings" ? objects[key] : undefined;
      if (object && object.body.length > maxBytes) throw new Error("too large");
      return object?.body ?? null;
    },
    async list(bucketName, prefix) {
      reads.push(`list ${prefix}`);
      const keys =
        bucketName === "recordings" ? Object.keys(objects).filter((key) => key.startsWith(prefix)) : [];
      return new Map(keys.map((key) => [key, { size: objects[key]?.body.length ?? null, etag: "e" }]));
    },
  };
  return { reader, reads };
}

const complete = (): Record<string, { body: string; contentType: string }> => ({
  [`eu/recordings/${ID}.mp4`]: { body: "mp4", contentType: "video/mp4" },
  [`${DIR}playlist.m3u8`]: {
    body: playlist(["seg_00000.ts", "seg_00001.ts"], true),
    contentType: "application/x-mpegurl",
  },
  [`${DIR}seg_00000.ts`]: { body: "ts", contentType: "video/mp2t" },
  [`${DIR}seg_00001.ts`]: { body: "ts", contentType: "video/mp2t" },
  [`${DIR}EG_abc.json`]: {
    body: JSON.stringify({
      images: [
        { filename: `recordings/${ID}/img_00000.jpeg` },
        { filename: `recordings/${ID}/img_00001.jpeg` },
      ],
    }),
    contentType: "application/json",
  },
});

describe("parsePlaylist", () => {
  it("reads the segments in order and whether egress closed it", () => {
    expect(parsePlaylist(playlist(["a.ts", "b.ts"], true))).toEqual({
      ended: true,
      segments: ["a.ts", "b.ts"],
    });
    expect(parsePlaylist(playlist(["a.ts"], false)).ended).toBe(false);
    expect(() => parsePlaylist("<html>")).toThrow(/#EXTM3U/);
  });
});

describe("checkArtifacts", () => {
  it("is complete when the file, the closed playlist with every segment, and the image manifest are there", async () => {
    const { reader } = bucket(complete());
    const found = await checkArtifacts(recording, reader);
    expect(found).toMatchObject({
      complete: true,
      file: { key: `eu/recordings/${ID}.mp4`, contentType: "video/mp4" },
    });
    expect(found.complete && found.artifacts.map((artifact) => [artifact.type, artifact.count])).toEqual([
      ["file", null],
      ["playlist", 2],
      ["images", 2],
    ]);
  });

  it.each([
    ["the playlist is still open", { body: playlist(["seg_00000.ts"], false) }, /to end \(#EXT-X-ENDLIST\)/],
    [
      "the playlist names a segment that is not there",
      { body: playlist(["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"], true) },
      /the segment recordings\/.*seg_00002\.ts/,
    ],
    [
      "the playlist names an object outside its segments",
      { body: playlist(["../other/seg_00000.ts"], true) },
      /not one of its segments/,
    ],
    ["the playlist is not a playlist", { body: "not hls" }, /not an HLS playlist/],
    ["the playlist has another content type", { contentType: "text/html" }, /the playlist/],
  ])("waits when %s", async (_, change, waitingFor) => {
    const objects = complete();
    const key = `${DIR}playlist.m3u8`;
    objects[key] = { ...objects[key], ...change } as { body: string; contentType: string };
    const found = await checkArtifacts(recording, bucket(objects).reader);
    expect(found.complete).toBe(false);
    expect(!found.complete && found.waitingFor).toMatch(waitingFor);
  });

  it("waits for the image manifest, which only exists once the egress is known and ended", async () => {
    const { [`${DIR}EG_abc.json`]: _manifest, ...objects } = complete();
    expect(await checkArtifacts(recording, bucket(objects).reader)).toEqual({
      complete: false,
      waitingFor: `the image manifest recordings/${DIR}EG_abc.json`,
    });
    expect(await checkArtifacts({ output, egressId: null }, bucket(complete()).reader)).toMatchObject({
      complete: false,
    });
  });

  it("lists the segments once instead of asking for each, however many the playlist names", async () => {
    const objects = complete();
    const names = Array.from({ length: 500 }, (_, i) => `seg_${String(i).padStart(5, "0")}.ts`);
    for (const name of names) objects[`${DIR}${name}`] = { body: "ts", contentType: "video/mp2t" };
    objects[`${DIR}playlist.m3u8`] = { body: playlist(names, true), contentType: "application/x-mpegurl" };
    const { reader, reads } = bucket(objects);
    const found = await checkArtifacts(recording, reader);
    expect(found.complete && found.artifacts.find((artifact) => artifact.type === "playlist")?.count).toBe(
      500,
    );
    expect(reads).toEqual([
      `stat eu/recordings/${ID}.mp4`,
      `stat ${DIR}playlist.m3u8`,
      `get ${DIR}playlist.m3u8`,
      `list ${DIR}seg_`,
      `stat ${DIR}EG_abc.json`,
      `get ${DIR}EG_abc.json`,
    ]);
  });

  it("does not ask storage again for the object whose event triggered the check", async () => {
    const fileOnly = { output: { ...output, hls: null, images: null }, egressId: "EG_abc" };
    const { reader, reads } = bucket({});
    const found = await checkArtifacts(fileOnly, reader, {
      bucket: "recordings",
      key: `eu/recordings/${ID}.mp4`,
      size: 10,
      etag: "x",
      contentType: "video/mp4",
    });
    expect(found).toMatchObject({ complete: true, file: { size: 10, etag: "x" } });
    expect(reads).toEqual([]);
  });
});

describe("finalObjectContentType", () => {
  it("names the final objects with the type egress uploads them with, and nothing else", () => {
    expect(finalObjectContentType(recording, `eu/recordings/${ID}.mp4`)).toBe("video/mp4");
    expect(finalObjectContentType(recording, `${DIR}playlist.m3u8`)).toBe("application/x-mpegurl");
    expect(finalObjectContentType(recording, `${DIR}EG_abc.json`)).toBe("application/json");
    expect(finalObjectContentType(recording, `${DIR}seg_00000.ts`)).toBeUndefined();
    expect(finalObjectContentType(recording, `${DIR}img_00000.jpeg`)).toBeUndefined();
    expect(finalObjectContentType(recording, `${DIR}EG_other.json`)).toBeUndefined();
  });
});
