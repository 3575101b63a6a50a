import {
  ParticipantInfo,
  ParticipantInfo_State,
  Room,
  TrackInfo,
  TrackSource,
  TrackType,
} from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import { AdminRequestError } from "../common/admin.ts";
import { newId } from "./ids.ts";
import { PUBLISHABLE_CODECS } from "./track-output.ts";
import { TwirpError } from "./twirp.ts";
import type { RoomEventName, WebhookPayload } from "./webhooks.ts";

/** What a participant can publish, by the name the admin endpoint takes. */
export const TRACK_SOURCES = {
  microphone: { source: TrackSource.MICROPHONE, type: TrackType.AUDIO },
  camera: { source: TrackSource.CAMERA, type: TrackType.VIDEO },
  screen_share: { source: TrackSource.SCREEN_SHARE, type: TrackType.VIDEO },
  screen_share_audio: { source: TrackSource.SCREEN_SHARE_AUDIO, type: TrackType.AUDIO },
} as const;
export type TrackSourceName = keyof typeof TRACK_SOURCES;

export interface RoomSettings {
  /** A room nobody joined closes this long after it was created (LiveKit: 5 min). */
  emptyTimeoutMs: number;
  /** A room closes this long after its last participant left (LiveKit: 20 s). */
  departureTimeoutMs: number;
  notify: (event: RoomEventName, payload: WebhookPayload) => void;
  /** Called when a track is published: egresses waiting for their start signal look again. */
  onTrackPublished: (roomName: string) => void;
  /** Called when a room closes, after room_finished: its egresses end. */
  onRoomClosed: (roomName: string) => void;
  /** Called when a participant left, after participant_left: a participant egress of it ends. */
  onParticipantLeft: (roomName: string, identity: string) => void;
  /** Called when a track was unpublished, after track_unpublished: a track egress of it ends. */
  onTrackUnpublished: (roomName: string) => void;
  logger: Logger;
}

interface RoomState {
  room: Room;
  participants: Map<string, ParticipantInfo>;
  /** The departure timeout in ms (Room carries whole seconds). */
  departureMs: number;
  /** At most one of the two timers runs: empty (nobody ever joined) or departure (all left). */
  closeTimer: NodeJS.Timeout | null;
}

export interface CreateRoomOptions {
  name: string;
  /** Seconds, as CreateRoomRequest carries them; 0 takes the server's default. */
  emptyTimeout?: number;
  departureTimeout?: number;
  maxParticipants?: number;
  metadata?: string;
}

const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

/**
 * The rooms of a LiveKit server: made by CreateRoom or by a first join (LiveKit's default
 * `room.auto_create`), closed by DeleteRoom, by `emptyTimeout` when nobody came, or by
 * `departureTimeout` after the last participant left. Every change sends LiveKit's webhook.
 * Participants are driven by the admin endpoint: no WebRTC client runs here.
 */
export class RoomRegistry {
  private readonly settings: RoomSettings;
  private readonly rooms = new Map<string, RoomState>();

  constructor(settings: RoomSettings) {
    this.settings = settings;
  }

  /** CreateRoom: a room that exists already is returned as it is, as livekit-server does. */
  create(options: CreateRoomOptions): Room {
    const existing = this.rooms.get(options.name);
    if (existing) return this.snapshot(existing);
    if (options.name === "") throw new TwirpError("invalid_argument", "room name cannot be empty");
    const nowMs = Date.now();
    const room = new Room({
      sid: newId("RM_"),
      name: options.name,
      emptyTimeout: options.emptyTimeout || Math.ceil(this.settings.emptyTimeoutMs / 1000),
      departureTimeout: options.departureTimeout || Math.ceil(this.settings.departureTimeoutMs / 1000),
      maxParticipants: options.maxParticipants ?? 0,
      metadata: options.metadata ?? "",
      creationTime: nowSeconds(),
      creationTimeMs: BigInt(nowMs),
    });
    const departureMs = options.departureTimeout
      ? options.departureTimeout * 1000
      : this.settings.departureTimeoutMs;
    const state: RoomState = { room, participants: new Map(), departureMs, closeTimer: null };
    this.rooms.set(options.name, state);
    this.settings.logger.info({ room: options.name, sid: room.sid }, "room started");
    this.emit(state, "room_started");
    const emptyMs = options.emptyTimeout ? options.emptyTimeout * 1000 : this.settings.emptyTimeoutMs;
    this.scheduleClose(state, emptyMs, "empty timeout");
    return this.snapshot(state);
  }

  get(name: string): Room | undefined {
    const state = this.rooms.get(name);
    return state ? this.snapshot(state) : undefined;
  }

  list(names: readonly string[]): Room[] {
    return [...this.rooms.values()]
      .filter((state) => names.length === 0 || names.includes(state.room.name))
      .map((state) => this.snapshot(state));
  }

  /** DeleteRoom: 404 for a room that does not exist. */
  delete(name: string): void {
    const state = this.rooms.get(name);
    if (!state) throw new TwirpError("not_found", "requested room does not exist");
    this.close(state, "deleted");
  }

  participants(roomName: string): ParticipantInfo[] {
    const state = this.rooms.get(roomName);
    if (!state) throw new TwirpError("not_found", "requested room does not exist");
    return [...state.participants.values()].map((participant) => participant.clone());
  }

  /** RemoveParticipant (Twirp errors) or the admin endpoint's leave. */
  remove(roomName: string, identity: string): void {
    const state = this.rooms.get(roomName);
    const participant = state?.participants.get(identity);
    if (!state || !participant) throw new TwirpError("not_found", "participant does not exist");
    this.leave(state, participant);
  }

  /** A participant joins (making the room if it does not exist), optionally publishing at once. */
  join(
    roomName: string,
    options: { identity: string; name?: string; metadata?: string; publish?: readonly TrackSourceName[] },
  ): ParticipantInfo {
    if (options.identity === "") throw new AdminRequestError(400, "identity must not be empty");
    if (!this.rooms.has(roomName)) this.create({ name: roomName });
    const state = this.rooms.get(roomName) as RoomState;
    if (state.participants.has(options.identity)) {
      throw new AdminRequestError(409, `${options.identity} is already in room ${roomName}`);
    }
    const { maxParticipants } = state.room;
    if (maxParticipants > 0 && state.participants.size >= maxParticipants) {
      throw new AdminRequestError(409, `room ${roomName} is full (${maxParticipants} participants)`);
    }
    const nowMs = Date.now();
    const participant = new ParticipantInfo({
      sid: newId("PA_"),
      identity: options.identity,
      name: options.name ?? options.identity,
      metadata: options.metadata ?? "",
      state: ParticipantInfo_State.ACTIVE,
      joinedAt: BigInt(Math.floor(nowMs / 1000)),
      joinedAtMs: BigInt(nowMs),
      version: 1,
    });
    state.participants.set(options.identity, participant);
    this.clearClose(state);
    this.settings.logger.info({ room: roomName, identity: options.identity }, "participant joined");
    this.emit(state, "participant_joined", participant);
    for (const source of options.publish ?? []) this.publish(roomName, options.identity, { source });
    return participant.clone();
  }

  publish(
    roomName: string,
    identity: string,
    options: { source: TrackSourceName; name?: string; muted?: boolean; codec?: string },
  ): TrackInfo {
    const { state, participant } = this.requireParticipant(roomName, identity);
    const kind = TRACK_SOURCES[options.source];
    if (participant.tracks.some((track) => track.source === kind.source)) {
      throw new AdminRequestError(409, `${identity} already publishes a ${options.source} track`);
    }
    const video = kind.type === TrackType.VIDEO;
    const codec = options.codec ?? (video ? "vp8" : "opus");
    const codecs: readonly string[] = video ? PUBLISHABLE_CODECS.video : PUBLISHABLE_CODECS.audio;
    if (!codecs.includes(codec)) {
      throw new AdminRequestError(
        400,
        `a ${options.source} track is one of ${codecs.join(", ")}, not ${codec}`,
      );
    }
    const track = new TrackInfo({
      sid: newId("TR_"),
      type: kind.type,
      source: kind.source,
      name: options.name ?? options.source,
      muted: options.muted ?? false,
      ...(kind.type === TrackType.VIDEO ? { width: 1280, height: 720, simulcast: true } : {}),
      mimeType: MIME_TYPES[codec] ?? codec,
    });
    participant.tracks.push(track);
    participant.isPublisher = true;
    participant.version += 1;
    this.settings.logger.info({ room: roomName, identity, source: options.source }, "track published");
    this.emit(state, "track_published", participant, track);
    this.settings.onTrackPublished(roomName);
    return track.clone();
  }

  unpublish(roomName: string, identity: string, trackRef: string): void {
    const { state, participant } = this.requireParticipant(roomName, identity);
    const index = participant.tracks.findIndex((track) => matchesTrack(track, trackRef));
    const track = participant.tracks[index];
    if (!track) throw new AdminRequestError(404, `${identity} publishes no track ${trackRef}`);
    participant.tracks.splice(index, 1);
    participant.isPublisher = participant.tracks.length > 0;
    participant.version += 1;
    this.emit(state, "track_unpublished", participant, track);
    this.settings.onTrackUnpublished(roomName);
  }

  /** Mutes or unmutes a track; LiveKit sends no webhook for it. */
  mute(roomName: string, identity: string, trackRef: string, muted: boolean): TrackInfo {
    const { participant } = this.requireParticipant(roomName, identity);
    const track = participant.tracks.find((candidate) => matchesTrack(candidate, trackRef));
    if (!track) throw new AdminRequestError(404, `${identity} publishes no track ${trackRef}`);
    track.muted = muted;
    participant.version += 1;
    return track.clone();
  }

  /**
   * Whether a room composite would get its start signal: the default template sends it once a
   * track is subscribed (muted ones too), an audio-only one once an audio track is.
   */
  hasStartSignal(roomName: string, audioOnly: boolean): boolean {
    const state = this.rooms.get(roomName);
    if (!state) return false;
    for (const participant of state.participants.values()) {
      for (const track of participant.tracks) {
        if (!audioOnly || track.type === TrackType.AUDIO) return true;
      }
    }
    return false;
  }

  /** Whether a participant is in the room publishing at least one track (an SDK source can start). */
  publishes(roomName: string, identity: string): boolean {
    return (this.rooms.get(roomName)?.participants.get(identity)?.tracks.length ?? 0) > 0;
  }

  /** Whether a track with this sid is published in the room. */
  hasTrack(roomName: string, trackSid: string): boolean {
    return this.track(roomName, trackSid) !== undefined;
  }

  /** The track with this sid published in the room, if any. */
  track(roomName: string, trackSid: string): TrackInfo | undefined {
    const state = this.rooms.get(roomName);
    if (!state) return undefined;
    for (const participant of state.participants.values()) {
      const track = participant.tracks.find((candidate) => candidate.sid === trackSid);
      if (track) return track;
    }
    return undefined;
  }

  /** Closes every room at once, without webhooks (the emulator is going away or being reset). */
  reset(): void {
    for (const state of this.rooms.values()) this.clearClose(state);
    this.rooms.clear();
  }

  private requireParticipant(roomName: string, identity: string) {
    const state = this.rooms.get(roomName);
    if (!state) throw new AdminRequestError(404, `no room ${roomName}`);
    const participant = state.participants.get(identity);
    if (!participant) throw new AdminRequestError(404, `no participant ${identity} in room ${roomName}`);
    return { state, participant };
  }

  private leave(state: RoomState, participant: ParticipantInfo): void {
    state.participants.delete(participant.identity);
    participant.state = ParticipantInfo_State.DISCONNECTED;
    this.settings.logger.info({ room: state.room.name, identity: participant.identity }, "participant left");
    this.emit(state, "participant_left", participant);
    this.settings.onParticipantLeft(state.room.name, participant.identity);
    if (state.participants.size === 0) {
      this.scheduleClose(state, state.departureMs, "departure timeout");
    }
  }

  private close(state: RoomState, reason: string): void {
    this.clearClose(state);
    for (const participant of [...state.participants.values()]) {
      state.participants.delete(participant.identity);
      participant.state = ParticipantInfo_State.DISCONNECTED;
      this.emit(state, "participant_left", participant);
    }
    this.rooms.delete(state.room.name);
    this.settings.logger.info({ room: state.room.name, reason }, "room finished");
    this.emit(state, "room_finished");
    this.settings.onRoomClosed(state.room.name);
  }

  private scheduleClose(state: RoomState, ms: number, reason: string): void {
    this.clearClose(state);
    state.closeTimer = setTimeout(() => {
      state.closeTimer = null;
      if (this.rooms.get(state.room.name) === state && state.participants.size === 0)
        this.close(state, reason);
    }, ms);
  }

  private clearClose(state: RoomState): void {
    if (state.closeTimer) clearTimeout(state.closeTimer);
    state.closeTimer = null;
  }

  private snapshot(state: RoomState): Room {
    const room = state.room.clone();
    room.numParticipants = state.participants.size;
    room.numPublishers = [...state.participants.values()].filter((p) => p.tracks.length > 0).length;
    return room;
  }

  private emit(
    state: RoomState,
    event: RoomEventName,
    participant?: ParticipantInfo,
    track?: TrackInfo,
  ): void {
    this.settings.notify(event, {
      room: this.snapshot(state),
      ...(participant ? { participant: participant.clone() } : {}),
      ...(track ? { track: track.clone() } : {}),
    });
  }
}

// The MIME types LiveKit's TrackInfo names each codec by (livekit/protocol livekit_models.proto).
const MIME_TYPES: Readonly<Record<string, string>> = {
  opus: "audio/opus",
  vp8: "video/VP8",
  vp9: "video/VP9",
  h264: "video/H264",
};

/** A track named by its sid (TR_…) or by its source (camera, microphone …). */
function matchesTrack(track: TrackInfo, ref: string): boolean {
  if (track.sid === ref) return true;
  const kind = TRACK_SOURCES[ref as TrackSourceName];
  return kind !== undefined && track.source === kind.source;
}
