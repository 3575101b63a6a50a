import { TrackType } from "@livekit/protocol";
import type { FileFormat, Recording } from "@recfleet/recordings";
import type { RecorderContext } from "./context.ts";
import { classifyEgressError } from "./egress-errors.ts";

/**
 * The container track egress writes a track's packets in, by the track's codec: it strips the
 * requested filepath's extension and puts this one (livekit/egress pkg/types/types.go
 * TrackOutputTypes, pkg/config/output_file.go updateFilepath). A codec not listed has no file.
 */
const CONTAINER_OF_CODEC: Readonly<Record<string, FileFormat>> = {
  "audio/opus": "ogg",
  "audio/pcmu": "ogg",
  "audio/pcma": "ogg",
  "video/h264": "mp4",
  "video/vp8": "webm",
  "video/vp9": "webm",
};

export type TrackFormat =
  | { outcome: "found"; format: FileFormat }
  /** The room or the track is not there (yet): the start waits, as egress itself would. */
  | { outcome: "absent"; what: "room" | "track" }
  /** The track cannot become what the recording asked for: the start fails with this. */
  | { outcome: "refused"; message: string };

/**
 * Reads a track recording's track from the room (RoomService ListParticipants) and works out the
 * file egress will write: its container decides the key recfleet waits for, so it must be known
 * before the Start. A track of the other kind, a codec with no file, or a format the codec does
 * not give is refused here rather than by a failed egress or a file that never matches.
 */
export async function trackFormatOf(context: RecorderContext, recording: Recording): Promise<TrackFormat> {
  const { source } = recording;
  if (source.type !== "track") throw new Error(`recording ${recording.id} does not record a track`);
  let participants: Awaited<ReturnType<RecorderContext["rooms"]["listParticipants"]>>;
  try {
    participants = await context.rooms.listParticipants(recording.room);
  } catch (error) {
    if (classifyEgressError(error).class === "not_found") return { outcome: "absent", what: "room" };
    throw error;
  }
  const track = participants
    .flatMap((participant) => participant.tracks)
    .find((t) => t.sid === source.trackId);
  if (!track) return { outcome: "absent", what: "track" };
  const kind = track.type === TrackType.AUDIO ? "audio" : track.type === TrackType.VIDEO ? "video" : "data";
  if (kind !== recording.kind) {
    return {
      outcome: "refused",
      message: `track ${source.trackId} is ${kind === "audio" ? "an audio" : `a ${kind}`} track: the recording asked for ${recording.kind}`,
    };
  }
  const codec = track.mimeType.toLowerCase();
  const format = CONTAINER_OF_CODEC[codec];
  if (!format) {
    return {
      outcome: "refused",
      message: `track ${source.trackId} is ${track.mimeType || "of no codec"}: track egress writes no file of it (only Opus, PCMU/PCMA, H.264, VP8, VP9)`,
    };
  }
  const asked = recording.outputs?.find((output) => output.type === "file");
  if (asked?.type === "file" && asked.format !== null && asked.format !== format) {
    return {
      outcome: "refused",
      message: `track ${source.trackId} is ${track.mimeType}: egress writes it as ${format}, not the ${asked.format} asked for`,
    };
  }
  return { outcome: "found", format };
}
