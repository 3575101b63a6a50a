import type { Artifact, Recording, RecordingOutput, StoredFile } from "./model.ts";

/** What storage says about one object. */
export interface ObjectInfo {
  size: number | null;
  etag: string | null;
  /** null when storage did not say. */
  contentType: string | null;
}

/**
 * The reads the artifact check needs, over whatever S3 client the app holds. Each call has its
 * own timeout; a storage that does not answer throws (the check then knows nothing).
 */
export interface StorageReader {
  /** null when the object is absent. */
  stat(bucket: string, key: string): Promise<ObjectInfo | null>;
  /** The object's text, null when absent; throws when it is larger than `maxBytes`. */
  readText(bucket: string, key: string, maxBytes: number): Promise<string | null>;
  /** The keys under a prefix, every page (a listing carries no content type). */
  list(bucket: string, prefix: string): Promise<Map<string, { size: number | null; etag: string | null }>>;
}

/**
 * The names recfleet gives the objects of a recording's directory `<prefix>/<id>/`: egress
 * numbers segments `<segmentPrefix>_00000.ts` … and images `<imagePrefix>_00000.jpeg` … beside
 * the playlists.
 */
export const DIRECTORY_NAMES = {
  playlist: "playlist.m3u8",
  livePlaylist: "live.m3u8",
  segmentPrefix: "seg",
  imagePrefix: "img",
} as const;

/** A segment or an image: objects egress writes while recording, never a final one. */
export function isNumberedObject(name: string): boolean {
  const numbered = /^(.+)_\d+\.(ts|jpeg)$/.exec(name);
  return (
    (numbered?.[1] === DIRECTORY_NAMES.segmentPrefix && numbered[2] === "ts") ||
    (numbered?.[1] === DIRECTORY_NAMES.imagePrefix && numbered[2] === "jpeg")
  );
}

/** Content types egress uploads each object with (livekit/egress pkg/types/types.go). */
export const ARTIFACT_CONTENT_TYPES = {
  playlist: "application/x-mpegurl",
  manifest: "application/json",
} as const;

/**
 * A playlist or manifest larger than this is not one egress wrote for us: ~100 bytes a segment
 * makes 8 MiB about 80,000 segments, 90 hours at 4 s.
 */
export const MAX_INDEX_BYTES = 8 * 1024 * 1024;

/** One object seen by whoever calls (a bucket event): known to exist, no need to ask again. */
export interface SeenObject extends ObjectInfo {
  bucket: string;
  key: string;
}

export type ArtifactCheck =
  | { complete: true; file: StoredFile; artifacts: Artifact[] }
  /** What is still missing, in words for a timeline or a log. */
  | { complete: false; waitingFor: string };

export interface Playlist {
  /** #EXT-X-ENDLIST is there: egress has closed it and will not add a segment. */
  ended: boolean;
  /** The segment URIs in order, as written (egress writes names relative to the playlist). */
  segments: string[];
}

/** Reads an HLS media playlist (RFC 8216 §4.3): tags start with #EXT, URIs are the other lines. */
export function parsePlaylist(text: string): Playlist {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an HLS playlist: it does not start with #EXTM3U");
  return {
    ended: lines.includes("#EXT-X-ENDLIST"),
    segments: lines.filter((line) => line !== "" && !line.startsWith("#")),
  };
}

/** The key of egress' manifest for an output whose objects land in `dir` (`<dir><egressId>.json`). */
export function manifestKeyIn(dir: string, egressId: string): string {
  return `${dir}${egressId}.json`;
}

/** The key prefix (ending in /) of the directory an object key is in. */
export function dirOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

// A segment name egress writes: `<prefix>_<index>.ts` or `<prefix>_<timestamp>.ts`, no path.
const SEGMENT_NAME = /^[A-Za-z0-9._-]+\.ts$/;

class Lookup {
  private readonly reader: StorageReader;
  private readonly seen: SeenObject | undefined;

  constructor(reader: StorageReader, seen: SeenObject | undefined) {
    this.reader = reader;
    this.seen = seen;
  }

  async stat(bucket: string, key: string, contentType: string): Promise<ObjectInfo | null> {
    const info =
      this.seen && this.seen.bucket === bucket && this.seen.key === key
        ? this.seen
        : await this.reader.stat(bucket, key);
    // An object under our name with another type is not what egress uploads: someone else's.
    if (info?.contentType != null && info.contentType !== contentType) return null;
    return info;
  }
}

function artifact(
  type: Artifact["type"],
  bucket: string,
  key: string,
  info: ObjectInfo,
  contentType: string,
  count: number | null,
): Artifact {
  return { type, bucket, key, size: info.size, etag: info.etag, contentType, count };
}

type Found = { artifacts: Artifact[] } | { waitingFor: string };

async function checkFile(lookup: Lookup, output: RecordingOutput): Promise<Found> {
  const { file } = output;
  if (!file) return { artifacts: [] };
  const primary = await lookup.stat(output.bucket, file.key, file.contentType);
  if (primary)
    return { artifacts: [artifact("file", output.bucket, file.key, primary, file.contentType, null)] };
  if (file.backup) {
    const backup = await lookup.stat(file.backup.bucket, file.backup.key, file.contentType);
    if (backup) {
      return {
        artifacts: [artifact("file", file.backup.bucket, file.backup.key, backup, file.contentType, null)],
      };
    }
  }
  return { waitingFor: `the file ${output.bucket}/${file.key}` };
}

async function checkHls(lookup: Lookup, reader: StorageReader, output: RecordingOutput): Promise<Found> {
  const { hls, bucket } = output;
  if (!hls) return { artifacts: [] };
  const type = ARTIFACT_CONTENT_TYPES.playlist;
  const where = `the playlist ${bucket}/${hls.playlistKey}`;
  const info = await lookup.stat(bucket, hls.playlistKey, type);
  if (!info) return { waitingFor: where };
  const text = await reader.readText(bucket, hls.playlistKey, MAX_INDEX_BYTES);
  if (text === null) return { waitingFor: where };
  let playlist: Playlist;
  try {
    playlist = parsePlaylist(text);
  } catch (error) {
    return { waitingFor: `${where} (${(error as Error).message})` };
  }
  if (!playlist.ended) return { waitingFor: `${where} to end (#EXT-X-ENDLIST)` };
  const dir = dirOf(hls.playlistKey);
  // One listing for every segment (a page per 1,000), not a request per segment.
  const stored = playlist.segments.length > 0 ? await reader.list(bucket, hls.segmentKeyPrefix) : new Map();
  for (const name of playlist.segments) {
    const key = `${dir}${name}`;
    // Only segments of this output, named as egress names them, count: a playlist is data.
    if (!SEGMENT_NAME.test(name) || !key.startsWith(hls.segmentKeyPrefix)) {
      return { waitingFor: `${where}: it lists "${name.slice(0, 100)}", not one of its segments` };
    }
    if (!stored.has(key)) return { waitingFor: `the segment ${bucket}/${key}` };
  }
  const found = [artifact("playlist", bucket, hls.playlistKey, info, type, playlist.segments.length)];
  if (hls.livePlaylistKey) {
    const live = await lookup.stat(bucket, hls.livePlaylistKey, type);
    if (!live) return { waitingFor: `the live playlist ${bucket}/${hls.livePlaylistKey}` };
    found.push(artifact("live-playlist", bucket, hls.livePlaylistKey, live, type, null));
  }
  return { artifacts: found };
}

async function checkImages(
  lookup: Lookup,
  reader: StorageReader,
  output: RecordingOutput,
  egressId: string | null,
): Promise<Found> {
  const { images, bucket } = output;
  if (!images) return { artifacts: [] };
  if (egressId === null) return { waitingFor: "an egress" };
  const key = manifestKeyIn(images.dir, egressId);
  const type = ARTIFACT_CONTENT_TYPES.manifest;
  const where = `the image manifest ${bucket}/${key}`;
  const info = await lookup.stat(bucket, key, type);
  if (!info) return { waitingFor: where };
  const text = await reader.readText(bucket, key, MAX_INDEX_BYTES);
  if (text === null) return { waitingFor: where };
  let listed: unknown;
  try {
    listed = (JSON.parse(text) as { images?: unknown }).images ?? [];
  } catch {
    return { waitingFor: `${where} (not JSON)` };
  }
  if (!Array.isArray(listed)) return { waitingFor: `${where} (its images are not a list)` };
  // The manifest is the egress', shared by its outputs: only this output's images are counted.
  const ours = `${images.filenamePrefix}_`;
  const count = (listed as unknown[]).filter((image) => {
    const filename = (image as { filename?: unknown } | null)?.filename;
    return typeof filename === "string" && filename.startsWith(ours);
  }).length;
  return { artifacts: [artifact("images", bucket, key, info, type, count)] };
}

/**
 * Whether every final object of a recording's outputs is in storage: the file; the playlist,
 * closed, and every segment it lists; the live playlist; the image manifest egress writes last.
 * Only the keys recfleet asked egress for are looked at, never one a webhook or an event named.
 * `seen` is an object the caller knows exists (the bucket event that triggered the check).
 */
export async function checkArtifacts(
  recording: Pick<Recording, "output" | "egressId">,
  reader: StorageReader,
  seen?: SeenObject,
): Promise<ArtifactCheck> {
  const { output } = recording;
  if (!output) return { complete: false, waitingFor: "the recording to start" };
  const lookup = new Lookup(reader, seen);
  const artifacts: Artifact[] = [];
  for (const check of [
    () => checkFile(lookup, output),
    () => checkHls(lookup, reader, output),
    () => checkImages(lookup, reader, output, recording.egressId),
  ]) {
    const found = await check();
    if ("waitingFor" in found) return { complete: false, waitingFor: found.waitingFor };
    artifacts.push(...found.artifacts);
  }
  const main = artifacts.find((found) => found.type !== "live-playlist");
  if (!main) return { complete: false, waitingFor: "an output that writes to storage" };
  return {
    complete: true,
    file: {
      bucket: main.bucket,
      key: main.key,
      size: main.size,
      etag: main.etag,
      contentType: main.contentType,
    },
    artifacts,
  };
}

/**
 * The content type egress uploads a key with when it is one of the recording's final objects
 * (the ones worth a check when they land), else undefined.
 */
export function finalObjectContentType(
  recording: Pick<Recording, "output" | "egressId">,
  key: string,
): string | undefined {
  const { output } = recording;
  if (!output) return undefined;
  if (output.file && (key === output.file.key || key === output.file.backup?.key))
    return output.file.contentType;
  if (output.hls && (key === output.hls.playlistKey || key === output.hls.livePlaylistKey)) {
    return ARTIFACT_CONTENT_TYPES.playlist;
  }
  if (
    output.images &&
    recording.egressId !== null &&
    key === manifestKeyIn(output.images.dir, recording.egressId)
  ) {
    return ARTIFACT_CONTENT_TYPES.manifest;
  }
  return undefined;
}
