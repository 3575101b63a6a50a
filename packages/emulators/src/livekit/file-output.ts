import type {
  EncodedFileOutput,
  ImageOutput,
  S3Upload,
  SegmentedFileOutput,
  StreamOutput,
} from "@livekit/protocol";
import { type FileFormat, invalidInput } from "./encoding.ts";
import { redactStreamKey } from "./stream-output.ts";
import { TwirpError } from "./twirp.ts";

/**
 * The outputs of a composite request (room, participant, track composite): the lists, and the
 * deprecated single `output` only the room and track composite requests have.
 */
export interface EncodedOutputs {
  fileOutputs: EncodedFileOutput[];
  streamOutputs: StreamOutput[];
  segmentOutputs: SegmentedFileOutput[];
  imageOutputs: ImageOutput[];
  output?: { case: string | undefined; value?: unknown };
}

/** What a Start request asks to be written, egress' way. */
export interface SelectedOutputs {
  file: EncodedFileOutput | null;
  stream: StreamOutput | null;
  segments: SegmentedFileOutput | null;
  images: ImageOutput[];
}

function checkUpload(upload: string | undefined): void {
  if (upload !== undefined && upload !== "s3") {
    throw new TwirpError("unimplemented", `the egress emulator uploads to S3 only, not to ${upload}`);
  }
}

/**
 * egress' updateEncodedOutputs: at most one file (`fileOutputs`, else the legacy `file`), at
 * most one stream output and one segmented output (likewise), any number of image outputs, at
 * least one output in all.
 */
export function selectOutputs(request: EncodedOutputs): SelectedOutputs {
  const legacy = request.output?.case;
  if (request.fileOutputs.length > 1) throw invalidInput("multiple file outputs");
  if (request.streamOutputs.length > 1) throw invalidInput("multiple stream outputs");
  if (request.segmentOutputs.length > 1) throw invalidInput("multiple segmented file outputs");
  const file =
    request.fileOutputs[0] ?? (legacy === "file" ? (request.output?.value as EncodedFileOutput) : null);
  const stream =
    request.streamOutputs[0] ?? (legacy === "stream" ? (request.output?.value as StreamOutput) : null);
  const segments =
    request.segmentOutputs[0] ??
    (legacy === "segments" ? (request.output?.value as SegmentedFileOutput) : null);
  const images = request.imageOutputs;
  if (!file && !stream && !segments && images.length === 0) throw invalidInput("output");
  for (const output of [file, segments, ...images]) if (output) checkUpload(output.output.case);
  return { file, stream, segments, images };
}

// Extensions egress recognises (and replaces) at the end of a requested filepath.
const KNOWN_EXTENSIONS = new Set([".mp4", ".ogg", ".mp3", ".ts", ".webm", ".ivf", ".m3u8"]);

/** Go's "2006-01-02T150405" layout, the timestamp egress puts in generated names. */
export function egressTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

export interface FilenameContext {
  roomName: string;
  roomId: string;
  now: Date;
}

/** egress' filename replacements: {room_name}, {room_id}, {time}. */
export function substituteFilename(requested: string, context: FilenameContext): string {
  return requested
    .replaceAll("{room_name}", context.roomName)
    .replaceAll("{room_id}", context.roomId)
    .replaceAll("{time}", egressTime(context.now));
}

/**
 * egress' updateFilepath: substitutes {room_name}, {room_id} and {time}, generates a name for an
 * empty path or a directory, and makes the extension match the container.
 */
export function resolveFilename(requested: string, format: FileFormat, context: FilenameContext): string {
  const time = egressTime(context.now);
  let path = substituteFilename(requested, context);
  if (path === "" || path.endsWith("/")) return `${path}${context.roomName}-${time}${format.extension}`;
  if (path.endsWith(format.extension)) return path;
  const dot = path.lastIndexOf(".");
  if (dot > 0 && KNOWN_EXTENSIONS.has(path.slice(dot))) path = path.slice(0, dot);
  return path + format.extension;
}

function redactValue(value: string, placeholder: string): string {
  return value === "" ? value : placeholder;
}

function redactS3(s3: S3Upload): void {
  s3.accessKey = redactValue(s3.accessKey, "{access_key}");
  s3.secret = redactValue(s3.secret, "{secret}");
  s3.sessionToken = redactValue(s3.sessionToken, "{session_token}");
  s3.assumeRoleExternalId = redactValue(s3.assumeRoleExternalId, "{external_id}");
}

export function redactUpload(upload: EncodedFileOutput["output"]): void {
  if (upload.case === "s3") redactS3(upload.value);
  else if (upload.case === "gcp")
    upload.value.credentials = redactValue(upload.value.credentials, "{credentials}");
  else if (upload.case === "azure") {
    upload.value.accountName = redactValue(upload.value.accountName, "{account_name}");
    upload.value.accountKey = redactValue(upload.value.accountKey, "{account_key}");
  } else if (upload.case === "aliOSS") {
    upload.value.accessKey = redactValue(upload.value.accessKey, "{access_key}");
    upload.value.secret = redactValue(upload.value.secret, "{secret}");
  }
}

/** The request as EgressInfo carries it: a copy with storage credentials replaced (egress' RedactUpload). */
export function redactedRequest<T extends EncodedOutputs & { clone(): T }>(request: T): T {
  const copy = request.clone();
  for (const output of [...copy.fileOutputs, ...copy.segmentOutputs, ...copy.imageOutputs]) {
    redactUpload(output.output as EncodedFileOutput["output"]);
  }
  if (copy.output?.case === "file" || copy.output?.case === "segments") {
    redactUpload((copy.output.value as EncodedFileOutput).output);
  }
  const streams = [
    ...copy.streamOutputs,
    ...(copy.output?.case === "stream" ? [copy.output.value as StreamOutput] : []),
  ];
  for (const stream of streams) stream.urls = stream.urls.map(redactStreamKey);
  return copy;
}
