import { type EgressInfo, EncodedFileOutput, S3Upload } from "@livekit/protocol";
import { landedKey, type ProfileCatalog, type StorageConfig, withOverrides } from "@recfleet/config";
import { egressEncodingFor } from "@recfleet/config/egress";
import { contentTypeOf, type Recording, type RecordingOutput } from "@recfleet/recordings";
import type { RoomCompositeOptions } from "livekit-server-sdk";

export interface StartRequest {
  roomName: string;
  output: { file: EncodedFileOutput };
  options: RoomCompositeOptions;
  /** The filepath egress is asked for: <prefix>/<recordingId>.<mp4|ogg>. */
  filepath: string;
}

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

/** Builds the room composite request of a recording from its profile and the storage settings. */
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
  const options: RoomCompositeOptions = { layout: recording.layout, audioOnly: encoding.audioOnly };
  if (recording.customBaseUrl !== null) options.customBaseUrl = recording.customBaseUrl;
  if (encoding.encodingOptions !== undefined) options.encodingOptions = encoding.encodingOptions;
  return { roomName: recording.room, output: { file }, options, filepath };
}

/** The file path an egress writes to, read back from the request it echoes in EgressInfo. */
export function filepathOf(info: EgressInfo): string | undefined {
  if (info.request.case !== "roomComposite") return undefined;
  const request = info.request.value;
  const fromList = request.fileOutputs[0]?.filepath;
  if (fromList) return fromList;
  return request.output.case === "file" ? request.output.value.filepath : undefined;
}
