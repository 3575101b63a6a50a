import {
  type DirectFileOutput,
  EncodedFileOutput,
  type TrackEgressRequest,
  type TrackInfo,
  TrackType,
} from "@livekit/protocol";
import { type EncodingPlan, type FileFormat, invalidInput, MIME, planEncoding } from "./encoding.ts";
import { redactUpload } from "./file-output.ts";
import { TwirpError } from "./twirp.ts";

/**
 * The container track egress writes a track's packets in, by codec (livekit/egress
 * pkg/types/types.go TrackOutputTypes): no transcoding, so the codec decides.
 */
const CONTAINER_OF_CODEC: Readonly<Record<string, FileFormat>> = {
  "audio/opus": { contentType: MIME.ogg, extension: ".ogg" },
  "audio/pcmu": { contentType: MIME.ogg, extension: ".ogg" },
  "audio/pcma": { contentType: MIME.ogg, extension: ".ogg" },
  "video/h264": { contentType: MIME.mp4, extension: ".mp4" },
  "video/vp8": { contentType: MIME.webm, extension: ".webm" },
  "video/vp9": { contentType: MIME.webm, extension: ".webm" },
};

/** The codecs a participant may publish through the admin endpoint: every one track egress takes. */
export const PUBLISHABLE_CODECS = {
  audio: ["opus"],
  video: ["vp8", "vp9", "h264"],
} as const;

export function trackFormatOf(track: TrackInfo): FileFormat | undefined {
  return CONTAINER_OF_CODEC[track.mimeType.toLowerCase()];
}

/**
 * A TrackEgressRequest's output as egress' updateDirectOutput takes it: a file (which the rest of
 * the fleet handles like an encoded file, without encoding), or a WebSocket URL, which the
 * emulator does not stream to.
 */
export function directFileOf(request: TrackEgressRequest): EncodedFileOutput {
  if (request.trackId === "") throw invalidInput("track_id");
  const { output } = request;
  if (output.case === "websocketUrl") {
    throw new TwirpError("unimplemented", "the egress emulator does not stream tracks to WebSockets");
  }
  if (output.case !== "file") throw invalidInput("output");
  const file: DirectFileOutput = output.value;
  return new EncodedFileOutput({
    filepath: file.filepath,
    disableManifest: file.disableManifest,
    output: file.output,
  });
}

/** A track is not transcoded: what the fleet sizes its file by is the track's own kind. */
export function trackPlan(track: TrackInfo | undefined): EncodingPlan {
  const video = track?.type === TrackType.VIDEO;
  return planEncoding({ audio: !video, video }, { case: undefined });
}

/** The request as EgressInfo carries it: its file's storage credentials redacted. */
export function redactedTrackRequest(request: TrackEgressRequest): TrackEgressRequest {
  const copy = request.clone();
  if (copy.output.case === "file") redactUpload(copy.output.value.output as EncodedFileOutput["output"]);
  return copy;
}
