import { posix } from "node:path";
import { type SegmentedFileOutput, SegmentedFileProtocol } from "@livekit/protocol";
import { invalidInput } from "./encoding.ts";
import { egressTime, type FilenameContext, substituteFilename } from "./file-output.ts";
import { TwirpError } from "./twirp.ts";

/** Where an HLS output's objects go, as egress works it out (pkg/config/output_segment.go). */
export interface SegmentPlan {
  /** The playlist's directory, "" or ending in "/": segments and playlists are uploaded there. */
  storageDir: string;
  playlistFilename: string;
  /** "" when no live playlist was asked for. */
  livePlaylistFilename: string;
  /** `<subdir/>prefix`: segment n is `<segmentPrefix>_<nnnnn>.ts`, in storageDir. */
  segmentPrefix: string;
  segmentDuration: number;
}

/**
 * egress' removeKnownExtension, as it behaves: it cuts at the last dot whether or not what
 * follows is an extension it knows ("a.b" becomes "a").
 */
function removeKnownExtension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? name : name.slice(0, dot);
}

/** egress' clean(): surrounding spaces trimmed; a leading "/" would escape the storage prefix. */
function clean(name: string): string {
  return name.trim().replace(/^\/+/, "");
}

/** path.Split: the directory with its trailing "/" and the last element. */
function split(path: string): [string, string] {
  const slash = path.lastIndexOf("/");
  return [path.slice(0, slash + 1), path.slice(slash + 1)];
}

/**
 * egress' getSegmentConfig and updatePrefixAndPlaylist: the default segment length (4 s), the
 * live playlist kept in the playlist's directory, a playlist name from the segment prefix (or
 * generated), segments in the playlist's directory unless they have a subdirectory of their own.
 */
export function planSegments(output: SegmentedFileOutput, context: FilenameContext): SegmentPlan {
  if (
    output.protocol !== SegmentedFileProtocol.DEFAULT_SEGMENTED_FILE_PROTOCOL &&
    output.protocol !== SegmentedFileProtocol.HLS_PROTOCOL
  ) {
    throw invalidInput("protocol");
  }
  if (output.filenameSuffix !== 0) {
    throw new TwirpError("unimplemented", "the egress emulator names segments by index only");
  }
  const substitute = (name: string) => substituteFilename(clean(name), context);
  const [playlistDir, playlistBase] = split(substitute(output.playlistName));
  const [liveDir, liveBase] = split(substitute(output.livePlaylistName));
  let [segmentDir, segmentBase] = split(substitute(output.filenamePrefix));
  if (liveDir !== "" && liveDir !== playlistDir) {
    throw invalidInput("live_playlist_name must be in same directory as playlist_name");
  }
  let storageDir = playlistDir;
  if (segmentDir !== "") {
    if (segmentDir === playlistDir) segmentDir = "";
    else if (playlistDir === "") {
      storageDir = segmentDir;
      segmentDir = "";
    }
  }
  let playlistName = removeKnownExtension(playlistBase);
  const livePlaylistName = removeKnownExtension(liveBase);
  if (playlistName === "")
    playlistName = segmentBase !== "" ? segmentBase : `${context.roomName}-${egressTime(context.now)}`;
  if (segmentBase === "") segmentBase = playlistName;
  const playlistFilename = `${playlistName}.m3u8`;
  const livePlaylistFilename = livePlaylistName === "" ? "" : `${livePlaylistName}.m3u8`;
  if (playlistFilename === livePlaylistFilename) {
    throw invalidInput("live_playlist_name cannot be identical to playlist_name");
  }
  return {
    storageDir,
    playlistFilename,
    livePlaylistFilename,
    segmentPrefix: `${segmentDir}${segmentBase}`,
    segmentDuration: output.segmentDuration === 0 ? 4 : output.segmentDuration,
  };
}

/** The name of segment `index` (egress' splitmuxsink location `%s_%05d.ts`). */
export function segmentName(plan: SegmentPlan, index: number): string {
  return `${plan.segmentPrefix}_${String(index).padStart(5, "0")}.ts`;
}

/** A storage path in the output's directory, as egress joins it (path.Join). */
export function inStorageDir(plan: SegmentPlan, name: string): string {
  return posix.join(plan.storageDir, name);
}

interface Entry {
  at: Date;
  seconds: number;
  filename: string;
}

function entryText(entry: Entry): string {
  // Go's "2006-01-02T15:04:05.999Z07:00": milliseconds without trailing zeros, then Z.
  const iso = entry.at.toISOString().replace(/\.?0+Z$/, "Z");
  return `#EXT-X-PROGRAM-DATE-TIME:${iso}\n#EXTINF:${entry.seconds.toFixed(3)},\n${entry.filename}\n`;
}

/** The live playlist's window: the last five segments (egress' defaultLivePlaylistWindow). */
export const LIVE_PLAYLIST_WINDOW = 5;

/**
 * egress' m3u8 writers: the EVENT playlist grows by one entry a segment and is closed with
 * #EXT-X-ENDLIST; the live one keeps the last five with a media sequence that counts the rest.
 */
export class Playlists {
  private readonly targetDuration: number;
  private readonly entries: Entry[] = [];

  constructor(targetDuration: number) {
    this.targetDuration = targetDuration;
  }

  append(at: Date, seconds: number, filename: string): void {
    this.entries.push({ at, seconds, filename });
  }

  get count(): number {
    return this.entries.length;
  }

  event(closed: boolean): string {
    const header =
      "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-ALLOW-CACHE:NO\n" +
      `#EXT-X-TARGETDURATION:${this.targetDuration}\n#EXT-X-MEDIA-SEQUENCE:0\n`;
    return header + this.entries.map(entryText).join("") + (closed ? "#EXT-X-ENDLIST\n" : "");
  }

  live(closed: boolean): string {
    const window = this.entries.slice(-LIVE_PLAYLIST_WINDOW);
    const header =
      "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-ALLOW-CACHE:NO\n" +
      `#EXT-X-TARGETDURATION:${this.targetDuration}\n` +
      `#EXT-X-MEDIA-SEQUENCE:${this.entries.length - window.length}\n`;
    return header + window.map(entryText).join("") + (closed ? "#EXT-X-ENDLIST\n" : "");
  }
}

/**
 * A stand-in MPEG-TS segment: 188-byte packets with the sync byte 0x47, the first on PID 0 (the
 * PAT), so sniffers and `file` see a transport stream. Real media is another matter.
 */
export function transportStreamPayload(bytes: number, seed: string): Buffer {
  const packets = Math.max(1, Math.ceil(bytes / 188));
  const payload = Buffer.alloc(packets * 188, 0xff);
  const filler = Buffer.from(`${seed} `, "latin1");
  for (let packet = 0; packet < packets; packet += 1) {
    const offset = packet * 188;
    payload[offset] = 0x47;
    // PID 0 for the first packet, a media PID (0x100) for the rest; payload only, counter.
    payload[offset + 1] = packet === 0 ? 0x40 : 0x01;
    payload[offset + 2] = 0x00;
    payload[offset + 3] = 0x10 | (packet & 0x0f);
    for (let at = offset + 4; at < offset + 188; at += filler.length) {
      filler.copy(payload, at, 0, Math.min(filler.length, offset + 188 - at));
    }
  }
  return payload;
}
