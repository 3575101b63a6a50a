import {
  DirectFileOutput,
  type EgressInfo,
  EncodedFileOutput,
  ImageOutput,
  S3Upload,
  SegmentedFileOutput,
  StreamOutput,
  StreamProtocol,
} from "@livekit/protocol";
import { landedKey, type ProfileCatalog, type StorageConfig, withOverrides } from "@recfleet/config";
import { egressEncodingFor } from "@recfleet/config/egress";
import {
  contentTypeOf,
  DIRECTORY_NAMES,
  dirOf,
  type FileFormat,
  outputOfType,
  type Recording,
  type RecordingOutput,
  shownReportedUrl,
  urlSchemeOf,
} from "@recfleet/recordings";
import type {
  EncodedOutputs,
  ParticipantEgressOptions,
  RoomCompositeOptions,
  TrackCompositeOptions,
  WebOptions,
} from "livekit-server-sdk";

interface StartRequestBase {
  roomName: string;
  output: EncodedOutputs;
}

/** The Egress Start call a recording needs, by its source. */
export type StartRequest =
  | (StartRequestBase & { method: "roomComposite"; options: RoomCompositeOptions })
  | (StartRequestBase & { method: "participant"; identity: string; options: ParticipantEgressOptions })
  | (StartRequestBase & { method: "trackComposite"; options: TrackCompositeOptions })
  | { method: "track"; roomName: string; trackId: string; output: DirectFileOutput }
  | { method: "web"; url: string; output: EncodedOutputs; options: WebOptions };

/** The object key a recording's file gets; the storage listener matches the same pattern. */
export function recordingFilepath(prefix: string, recordingId: string, extension: FileFormat): string {
  return `${prefix}/${recordingId}.${extension}`;
}

/** The S3 endpoint as the egress fleet reaches it. */
export function egressS3Endpoint(storage: StorageConfig): string {
  if (storage.egressEndpoint !== "") return storage.egressEndpoint;
  return `${storage.useSSL ? "https" : "http"}://${storage.endpoint}:${storage.port}`;
}

function encodingOf(recording: Recording, profiles: ProfileCatalog) {
  const profile = recording.profile === null ? undefined : profiles.get(recording.profile);
  if (!profile) throw new Error(`recording ${recording.id} names unknown profile "${recording.profile}"`);
  return egressEncodingFor(withOverrides(profile, recording.encoding), recording.kind);
}

/**
 * The container of a recording's file: the profile's, or for a track the one egress picks for
 * its codec (`trackFormat`, read from the room before the Start; see track-format.ts).
 */
function fileFormatOf(
  recording: Recording,
  profiles: ProfileCatalog,
  trackFormat: FileFormat | null,
): FileFormat {
  if (recording.source.type !== "track") return encodingOf(recording, profiles).extension;
  if (trackFormat === null) throw new Error(`recording ${recording.id} records a track of unknown codec`);
  return trackFormat;
}

/**
 * What a recording asks egress for, and where each object lands (under egress' own storage
 * prefix, or its backup storage's for a file): the file `<prefix>/<id>.<ext>`, and in the
 * directory `<prefix>/<id>/` the HLS playlists and segments and the thumbnails. Worked out once,
 * when a recorder picks the recording up, and stored on it: a later change of settings does not
 * move what earlier recordings wait for.
 */
export function plannedOutput(
  recording: Recording,
  profiles: ProfileCatalog,
  storage: StorageConfig,
  trackFormat: FileFormat | null = null,
): RecordingOutput {
  const landed = (path: string) => landedKey(storage.egressPrefix, path);
  const dir = `${storage.prefix}/${recording.id}/`;
  let file: RecordingOutput["file"] = null;
  if (outputOfType(recording, "file")) {
    const extension = fileFormatOf(recording, profiles, trackFormat);
    const filepath = recordingFilepath(storage.prefix, recording.id, extension);
    file = {
      filepath,
      key: landed(filepath),
      contentType: contentTypeOf(filepath) ?? "application/octet-stream",
      backup:
        storage.egressBackupBucket === ""
          ? null
          : { bucket: storage.egressBackupBucket, key: landedKey(storage.egressBackupPrefix, filepath) },
    };
  }
  const hls = outputOfType(recording, "hls");
  const images = outputOfType(recording, "images");
  return {
    bucket: storage.bucket,
    file,
    hls: hls
      ? {
          playlistName: `${dir}${DIRECTORY_NAMES.playlist}`,
          playlistKey: landed(`${dir}${DIRECTORY_NAMES.playlist}`),
          livePlaylistKey: hls.livePlaylist ? landed(`${dir}${DIRECTORY_NAMES.livePlaylist}`) : null,
          segmentKeyPrefix: landed(`${dir}${DIRECTORY_NAMES.segmentPrefix}_`),
        }
      : null,
    images: images
      ? {
          filenamePrefix: `${dir}${DIRECTORY_NAMES.imagePrefix}`,
          keyPrefix: landed(`${dir}${DIRECTORY_NAMES.imagePrefix}`),
          dir: landed(dir),
        }
      : null,
  };
}

/** The recording's output as stored, or as planned now for one stored before outputs were. */
export function outputOf(
  recording: Recording,
  profiles: ProfileCatalog,
  storage: StorageConfig,
): RecordingOutput {
  return recording.output ?? plannedOutput(recording, profiles, storage);
}

function s3Upload(storage: StorageConfig): S3Upload {
  return new S3Upload({
    accessKey: storage.accessKey,
    secret: storage.secretKey,
    region: storage.region,
    endpoint: egressS3Endpoint(storage),
    bucket: storage.bucket,
    forcePathStyle: true,
  });
}

/** The outputs of a Start request, each with the S3 upload when egress is to use ours. */
function encodedOutputs(
  recording: Recording,
  planned: RecordingOutput,
  fileType: EncodedFileOutput["fileType"],
  storage: StorageConfig,
  streamUrls: readonly string[],
): EncodedOutputs {
  const upload = storage.egressUpload ? { case: "s3" as const, value: s3Upload(storage) } : undefined;
  const outputs: EncodedOutputs = {};
  if (planned.file) {
    outputs.file = new EncodedFileOutput({ fileType, filepath: planned.file.filepath });
    if (upload) outputs.file.output = upload;
  }
  const hls = outputOfType(recording, "hls");
  if (planned.hls && hls) {
    const dir = dirOf(planned.hls.playlistName);
    outputs.segments = new SegmentedFileOutput({
      playlistName: planned.hls.playlistName,
      filenamePrefix: `${dir}${DIRECTORY_NAMES.segmentPrefix}`,
      segmentDuration: hls.segmentSeconds,
      ...(planned.hls.livePlaylistKey ? { livePlaylistName: `${dir}${DIRECTORY_NAMES.livePlaylist}` } : {}),
    });
    if (upload) outputs.segments.output = upload;
  }
  if (outputOfType(recording, "stream") && streamUrls.length > 0) {
    outputs.stream = new StreamOutput({
      protocol: urlSchemeOf(streamUrls[0] ?? "") === "srt" ? StreamProtocol.SRT : StreamProtocol.RTMP,
      urls: [...streamUrls],
    });
  }
  const images = outputOfType(recording, "images");
  if (planned.images && images) {
    outputs.images = new ImageOutput({
      filenamePrefix: planned.images.filenamePrefix,
      captureInterval: images.intervalSeconds,
      width: images.width ?? 0,
      height: images.height ?? 0,
    });
    if (upload) outputs.images.output = upload;
  }
  return outputs;
}

/**
 * Builds the Start request of a recording from its source, outputs, profile and storage
 * settings, and its stream output's whole URLs (kept apart from the recording).
 */
export function buildStartRequest(
  recording: Recording,
  profiles: ProfileCatalog,
  storage: StorageConfig,
  streamUrls: readonly string[] = [],
): StartRequest {
  const planned = outputOf(recording, profiles, storage);
  const { source } = recording;
  if (source.type === "track") {
    // Track egress copies the track's packets: a file, no encoding, the codec's container.
    if (!planned.file) throw new Error(`recording ${recording.id} records a track without a file`);
    const output = new DirectFileOutput({ filepath: planned.file.filepath });
    if (storage.egressUpload) output.output = { case: "s3", value: s3Upload(storage) };
    return { method: "track", roomName: recording.room, trackId: source.trackId, output };
  }
  const encoding = encodingOf(recording, profiles);
  const base = {
    roomName: recording.room,
    output: encodedOutputs(recording, planned, encoding.fileType, storage, streamUrls),
  };
  const encodingOptions =
    encoding.encodingOptions !== undefined ? { encodingOptions: encoding.encodingOptions } : {};
  switch (source.type) {
    case "room": {
      const options: RoomCompositeOptions = {
        layout: recording.layout,
        audioOnly: encoding.audioOnly,
        ...encodingOptions,
      };
      if (recording.customBaseUrl !== null) options.customBaseUrl = recording.customBaseUrl;
      return { ...base, method: "roomComposite", options };
    }
    case "participant":
      return {
        ...base,
        method: "participant",
        identity: source.identity,
        options: { screenShare: source.screenShare, ...encodingOptions },
      };
    case "tracks":
      return {
        ...base,
        method: "trackComposite",
        options: {
          ...(source.audioTrackId !== null ? { audioTrackId: source.audioTrackId } : {}),
          ...(source.videoTrackId !== null ? { videoTrackId: source.videoTrackId } : {}),
          ...encodingOptions,
        },
      };
    case "web":
      return {
        method: "web",
        url: source.url,
        output: base.output,
        options: {
          audioOnly: encoding.audioOnly,
          awaitStartSignal: source.awaitStartSignal,
          ...encodingOptions,
        },
      };
  }
}

/**
 * The names an egress was asked to write, read back from the request it echoes in EgressInfo:
 * its file's filepath, its playlist's name, its images' prefix (each "" when it has none).
 */
export function requestedNamesOf(info: EgressInfo): { filepath: string; playlist: string; images: string } {
  const { request } = info;
  if (request.case === "track") {
    const { output } = request.value;
    return { filepath: output.case === "file" ? output.value.filepath : "", playlist: "", images: "" };
  }
  if (
    request.case !== "participant" &&
    request.case !== "roomComposite" &&
    request.case !== "trackComposite" &&
    request.case !== "web"
  ) {
    return { filepath: "", playlist: "", images: "" };
  }
  const { value } = request;
  const legacy = "output" in value ? value.output : undefined;
  return {
    filepath: value.fileOutputs[0]?.filepath || (legacy?.case === "file" ? legacy.value.filepath : "") || "",
    playlist:
      value.segmentOutputs[0]?.playlistName ||
      (legacy?.case === "segments" ? legacy.value.playlistName : "") ||
      "",
    images: value.imageOutputs[0]?.filenamePrefix ?? "",
  };
}

/**
 * Whether an egress writes what a recording planned: its file, or its playlist, or its images;
 * for a stream-only recording, whether it streams to every one of its (redacted) URLs.
 */
export function writesPlannedOutput(
  info: EgressInfo,
  planned: RecordingOutput,
  streamUrls: readonly string[],
): boolean {
  const names = requestedNamesOf(info);
  if (planned.file) return names.filepath === planned.file.filepath;
  if (planned.hls) return names.playlist === planned.hls.playlistName;
  if (planned.images) return names.images === planned.images.filenamePrefix;
  const streamed = new Set(info.streamResults.map((result) => shownReportedUrl(result.url)));
  return streamUrls.length > 0 && streamUrls.every((url) => streamed.has(url));
}
