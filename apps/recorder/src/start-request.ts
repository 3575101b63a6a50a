import { type EgressInfo, EncodedFileOutput, S3Upload } from "@livekit/protocol";
import { landedKey, type ProfileCatalog, type StorageConfig, withOverrides } from "@recfleet/config";
import { egressEncodingFor } from "@recfleet/config/egress";
import { contentTypeOf, type Recording, type RecordingOutput } from "@recfleet/recordings";
import type {
  ParticipantEgressOptions,
  RoomCompositeOptions,
  TrackCompositeOptions,
} from "livekit-server-sdk";

interface StartRequestBase {
  roomName: string;
  output: { file: EncodedFileOutput };
  /** The filepath egress is asked for: <prefix>/<recordingId>.<mp4|ogg>. */
  filepath: string;
}

/** The Egress Start call a recording needs, by its source. */
export type StartRequest =
  | (StartRequestBase & { method: "roomComposite"; options: RoomCompositeOptions })
  | (StartRequestBase & { method: "participant"; identity: string; options: ParticipantEgressOptions })
  | (StartRequestBase & { method: "trackComposite"; options: TrackCompositeOptions });

/** The object key a recording's file gets; the storage listener matches the same pattern. */
export function recordingFilepath(prefix: string, recordingId: string, extension: "mp4" | "ogg"): string {
  return `${prefix}/${recordingId}.${extension}`;
}

/** The S3 endpoint as the egress fleet reaches it. */
export function egressS3Endpoint(storage: StorageConfig): string {
  if (storage.egressEndpoint !== "") return storage.egressEndpoint;
  return `${storage.useSSL ? "https" : "http"}://${storage.endpoint}:${storage.port}`;
}

function encodingOf(recording: Recording, profiles: ProfileCatalog) {
  const profile = profiles.get(recording.profile);
  if (!profile) throw new Error(`recording ${recording.id} names unknown profile "${recording.profile}"`);
  return egressEncodingFor(withOverrides(profile, recording.encoding), recording.kind);
}

/**
 * The file a recording asks egress for, and where egress will put it (under its own storage
 * prefix, or its backup storage's). Worked out once, when a recorder picks the recording up, and
 * stored on it: a later change of settings does not move what earlier recordings wait for.
 */
export function plannedOutput(
  recording: Recording,
  profiles: ProfileCatalog,
  storage: StorageConfig,
): RecordingOutput {
  const { extension } = encodingOf(recording, profiles);
  const filepath = recordingFilepath(storage.prefix, recording.id, extension);
  return {
    filepath,
    bucket: storage.bucket,
    key: landedKey(storage.egressPrefix, filepath),
    contentType: contentTypeOf(filepath) ?? "application/octet-stream",
    backup:
      storage.egressBackupBucket === ""
        ? null
        : { bucket: storage.egressBackupBucket, key: landedKey(storage.egressBackupPrefix, filepath) },
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

/** Builds the Start request of a recording from its source, its profile and the storage settings. */
export function buildStartRequest(
  recording: Recording,
  profiles: ProfileCatalog,
  storage: StorageConfig,
): StartRequest {
  const encoding = encodingOf(recording, profiles);
  const { filepath } = outputOf(recording, profiles, storage);
  const file = new EncodedFileOutput({ fileType: encoding.fileType, filepath });
  if (storage.egressUpload) {
    file.output = {
      case: "s3",
      value: new S3Upload({
        accessKey: storage.accessKey,
        secret: storage.secretKey,
        region: storage.region,
        endpoint: egressS3Endpoint(storage),
        bucket: storage.bucket,
        forcePathStyle: true,
      }),
    };
  }
  const base = { roomName: recording.room, output: { file }, filepath };
  const encodingOptions =
    encoding.encodingOptions !== undefined ? { encodingOptions: encoding.encodingOptions } : {};
  const { source } = recording;
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
  }
}

/** The file path an egress writes to, read back from the request it echoes in EgressInfo. */
export function filepathOf(info: EgressInfo): string | undefined {
  const { request } = info;
  if (request.case === "participant") return request.value.fileOutputs[0]?.filepath || undefined;
  if (request.case !== "roomComposite" && request.case !== "trackComposite") return undefined;
  const fromList = request.value.fileOutputs[0]?.filepath;
  if (fromList) return fromList;
  return request.value.output.case === "file" ? request.value.output.value.filepath : undefined;
}
