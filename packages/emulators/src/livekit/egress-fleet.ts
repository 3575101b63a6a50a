import { posix } from "node:path";
import {
  EgressInfo,
  EgressSourceType,
  EgressStatus,
  FileInfo,
  ImagesInfo,
  type ListEgressRequest,
  type ParticipantEgressRequest,
  type RoomCompositeEgressRequest,
  SegmentsInfo,
  StreamInfo,
  StreamInfo_Status,
  StreamInfoList,
  type TrackCompositeEgressRequest,
  type TrackEgressRequest,
  type WebEgressRequest,
} from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import {
  type EncodingPlan,
  type FileFormat,
  invalidInput,
  planEncoding,
  resolveFileFormat,
  totalBitrateKbps,
} from "./encoding.ts";
import type { EgressFaults } from "./faults.ts";
import {
  type FilenameContext,
  redactedRequest,
  resolveFilename,
  selectOutputs,
  substituteFilename,
} from "./file-output.ts";
import { newId, nowNanos } from "./ids.ts";
import { type ImagePlan, imagePath, planImages, thumbnailJpeg } from "./image-output.ts";
import type { MediaRenderer } from "./media.ts";
import { generatePayload, payloadSize } from "./payload.ts";
import type { RoomRegistry } from "./rooms.ts";
import {
  inStorageDir,
  Playlists,
  planSegments,
  type SegmentPlan,
  segmentName,
  transportStreamPayload,
} from "./segment-output.ts";
import { isActiveStatus, statusName } from "./status.ts";
import {
  type DefaultStorage,
  type S3Target,
  targetFromDefault,
  targetFromRequest,
  uploadWithRetries,
} from "./storage.ts";
import {
  connectStream,
  redactStreamKey,
  type StreamConnection,
  type StreamKind,
  type StreamTarget,
  streamKindOf,
  streamTarget,
} from "./stream-output.ts";
import { directFileOf, redactedTrackRequest, trackFormatOf, trackPlan } from "./track-output.ts";
import { TwirpError } from "./twirp.ts";
import { loadPage } from "./web-page.ts";
import type { EgressEventName, WebhookPayload } from "./webhooks.ts";

export type UploadOutcome = "pending" | "uploaded" | "failed" | "kept-locally";

/** What happened to an egress' file, for the admin listing. */
export interface UploadRecord {
  outcome: UploadOutcome;
  bucket?: string;
  /** Where the file landed (or was to land): the filepath under the storage's prefix. */
  key: string;
  location?: string;
  contentType: string;
  bytes: number;
  /** Tries it took, primary and backup storage together. */
  attempts: number;
  /** The primary storage failed and the file went to the backup storage. */
  backupUsed: boolean;
  /** The manifest `<dir>/<egressId>.json` beside the file, once uploaded. */
  manifestKey?: string;
  error?: string;
}

/** An HLS output while it records: segments closed every segmentDuration, its playlists. */
interface SegmentSink {
  plan: SegmentPlan;
  info: SegmentsInfo;
  target: S3Target | null;
  playlists: Playlists;
  /** When the open segment began (ms), null before the egress records. */
  openedAtMs: number | null;
  nextIndex: number;
  lastPlaylistUploadMs: number | null;
  /** What the manifest lists: the playlist's location and each segment's. */
  locations: { filename: string; location: string }[];
  playlistLocation: string;
}

/** An image output while it records: one JPEG every captureInterval. */
interface ImageSink {
  plan: ImagePlan;
  info: ImagesInfo;
  target: S3Target | null;
  nextIndex: number;
  locations: { filename: string; timestamp: string; location: string }[];
}

/** One URL of a stream output while it streams (egress' config.Stream and its sink). */
interface StreamSink {
  target: StreamTarget;
  info: StreamInfo;
  connection: StreamConnection | null;
  /** Media reached the destination at least once: a later break is retried, not fatal at once. */
  progressed: boolean;
  /** Since when it has been reconnecting; null while connected. */
  disconnectedAtMs: number | null;
}

interface StreamSinks {
  kind: StreamKind;
  /** By the URL egress streams to; gone once finished or failed (their StreamInfo stays). */
  live: Map<string, StreamSink>;
}

interface EgressRun {
  info: EgressInfo;
  plan: EncodingPlan;
  /** The file output's container; null without one. */
  format: FileFormat | null;
  /** The one FileInfo that `file_results[0]` and the deprecated `file` result both show. */
  file: FileInfo | null;
  /** Where the file goes, credentials included (EgressInfo only carries a redacted copy). */
  target: S3Target | null;
  segments: SegmentSink | null;
  images: ImageSink[];
  streams: StreamSinks | null;
  /** Segment and image uploads made while recording, in order; the end waits for them. */
  uploads: Promise<void>;
  /** Egress' backup storage, tried when an upload to the target fails. */
  backup: S3Target | null;
  /** A track egress' track codec (its MIME type), once subscribed; "" otherwise. */
  trackCodec: string;
  /** Once an upload failed over to the backup storage, later ones (the manifest) go there at once. */
  primaryFailed: boolean;
  disableManifest: boolean;
  /** The egress' handler is alive: not yet ended, or still finishing its upload. */
  running: boolean;
  /** Its instance died: nothing about it changes any more. */
  crashed: boolean;
  /** What it records: the room (composite), one participant, chosen tracks, one track, or a page. */
  source: StartSource;
  /**
   * A room composite records once its template sends the start signal (a track is there); a
   * participant or track composite once its participant or tracks are there to subscribe to.
   */
  awaitingStartSignal: boolean;
  /** A web source's page loaded and gave its start signal (or none was awaited). */
  pageSignalled: boolean;
  /** LiveKit lost its record (purge or data loss): hidden until the egress reports again. */
  forgotten: boolean;
  /** The layout the template shows (UpdateLayout changes it; EgressInfo keeps the request's). */
  layout: string | null;
  activeSinceMs: number | null;
  plannedFault: "fail" | "crash" | null;
  timers: Set<NodeJS.Timeout>;
  upload: UploadRecord | null;
}

/** A Start request, by the EgressInfo.request case it becomes. */
export type StartSource =
  | { case: "roomComposite"; value: RoomCompositeEgressRequest }
  | { case: "participant"; value: ParticipantEgressRequest }
  | { case: "trackComposite"; value: TrackCompositeEgressRequest }
  | { case: "track"; value: TrackEgressRequest }
  | { case: "web"; value: WebEgressRequest };

export interface FleetSettings {
  faults: () => EgressFaults;
  rooms: RoomRegistry;
  /**
   * A Start for a room that does not exist opens it with one participant publishing a camera
   * and a microphone, instead of answering 404 (a sandbox convenience; LiveKit never does).
   */
  autoRoom: boolean;
  /**
   * With `autoRoom`, how long after the first Start the room opens; meanwhile Start answers the
   * real 404, as for a meeting that begins a moment after its recording was asked for. 0: at once.
   */
  autoRoomDelayMs: number;
  /** How long a stream's connection (TCP and the RTMP handshake, or TLS too) may take. */
  streamConnectTimeoutMs: number;
  /** Pause between reconnections of a stream that broke after media flowed. */
  streamRetryDelayMs: number;
  /** A broken stream is given up (FAILED) after reconnecting this long (egress: 30 s). */
  streamGiveUpMs: number;
  /** Media sent to a stream every this many ms. */
  streamMediaIntervalMs: number;
  /** Ended egresses are forgotten this long after they ended (LiveKit: 24 h). */
  endedRetentionMs: number;
  /**
   * How long a participant or track composite egress waits for its participant or tracks before
   * it fails "participant … not found" (egress' subscriptionTimeout, 30 s).
   */
  sourceWaitMs: number;
  /** How long a web source's page may take to load (egress' chromeTimeout, 30 s). */
  pageLoadTimeoutMs: number;
  payloadCapBytes: number;
  /** Renders real media for files and segments; null: placeholder bytes of a plausible size. */
  media: MediaRenderer | null;
  uploadTimeoutMs: number;
  /** Pause before the first upload retry; doubled each time, up to 5 s (the AWS SDK's bounds). */
  uploadRetryDelayMs: number;
  defaultStorage: DefaultStorage | null;
  /** Egress' `storage.prefix`: put before every file it uploads, request s3 blocks included. */
  storagePrefix: string;
  /** Egress' `backup:` storage, for uploads that failed; with its own prefix. */
  backupStorage: (DefaultStorage & { prefix: string }) | null;
  notify: (event: EgressEventName, payload: WebhookPayload) => void;
  logger: Logger;
}

export interface FailOptions {
  error?: string;
  /** EgressInfo.error_code; defaults to 503, what egress reports for a lost room connection. */
  errorCode?: number;
}

/** An egress in the admin listing: the EgressInfo as ListEgress returns it, plus what is hidden. */
export interface EgressSnapshot {
  info: Record<string, unknown>;
  /** The layout its template shows now: the request's, or the last UpdateLayout's. */
  layout: string | null;
  running: boolean;
  crashed: boolean;
  bitrateKbps: number;
  upload: UploadRecord | null;
}

export class EgressAdminError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "EgressAdminError";
    this.status = status;
  }
}

// What egress writes in EgressInfo.details (SetEndReason) and EgressInfo.error.
const END_REASON = {
  api: "End reason: StopEgress API",
  limit: "End reason: Session limit reached",
  failure: "End reason: Failure",
} as const;
const END_REASON_SOURCE_CLOSED = "End reason: Source closed";
const END_REASON_STREAMS_STOPPED = "End reason: All streams stopped";
const MSG_STOPPED_BEFORE_STARTED = "Stop called before pipeline could start";
const MSG_START_NOT_RECEIVED = "Start signal not received";
const MSG_LIMIT_REACHED = "Session limit reached";
const MSG_LIMIT_REACHED_WITHOUT_START = "Session limit reached before start signal";

/** The participant the sandbox's `autoRoom` puts in a room it opens. */
export const AUTO_ROOM_PARTICIPANT = "sandbox-speaker";

/** A refusal that livekit-server only gives after its retries ran out: sent `afterMs` late. */
export class DelayedTwirpError extends TwirpError {
  readonly afterMs: number;

  constructor(error: TwirpError, afterMs: number) {
    super(error.code, error.message, error.meta);
    this.afterMs = afterMs;
  }
}

/** snake_case, every default emitted: how livekit-server's Twirp JSON marshaller writes messages. */
export const WIRE_JSON = { useProtoFieldName: true, emitDefaultValues: true } as const;

/**
 * The egress instances behind the API: admission, the STARTING → ACTIVE → ENDING → COMPLETE
 * lifecycle with its timers, uploads, and the faults that bend it.
 */
export class EgressFleet {
  private readonly settings: FleetSettings;
  private readonly runs = new Map<string, EgressRun>();
  private readonly purgeTimers = new Map<string, NodeJS.Timeout>();
  private readonly autoRoomTimers = new Map<string, NodeJS.Timeout>();
  private readonly finishing = new Set<Promise<void>>();
  private pendingFails = 0;
  private pendingCrashes = 0;

  constructor(settings: FleetSettings) {
    this.settings = settings;
  }

  /** Arms the "next N egresses" faults; a count left out keeps its current value. */
  armNextFaults(counts: { failNext?: number | undefined; crashNext?: number | undefined }): void {
    if (counts.failNext !== undefined) this.pendingFails = counts.failNext;
    if (counts.crashNext !== undefined) this.pendingCrashes = counts.crashNext;
  }

  pendingNextFaults(): { failNext: number; crashNext: number } {
    return { failNext: this.pendingFails, crashNext: this.pendingCrashes };
  }

  /**
   * A Start after authorization: the request's own checks, the room, admission, validation,
   * then a new egress — in livekit-server's order, which decides what a bad request to a full
   * fleet gets (livekit/livekit pkg/service/egress.go; livekit/egress pkg/config/pipeline.go).
   */
  start(source: StartSource): EgressInfo {
    // A web egress opens a page, in no room: livekit-server loads no room for it.
    const roomName = source.case === "web" ? "" : source.value.roomName;
    if (source.case !== "web" && roomName === "") throw invalidInput("room_name");
    // livekit-server loads the room before it asks any egress instance.
    const room =
      source.case === "web" ? null : (this.settings.rooms.get(roomName) ?? this.openAutoRoom(roomName));
    // With no instance free, psrpc gets no bid at all, valid request or not, and gives up only
    // after its retries: the 503 comes ~20 s late.
    const { capacity, refusalDelayMs } = this.settings.faults();
    if (capacity !== null && this.liveCount() >= capacity) {
      throw new DelayedTwirpError(new TwirpError("unavailable", "no response from servers"), refusalDelayMs);
    }
    let enabled: { audio: boolean; video: boolean };
    let sourceType = EgressSourceType.SDK;
    if (source.case === "roomComposite") {
      enabled = { audio: !source.value.videoOnly, video: !source.value.audioOnly };
      sourceType = EgressSourceType.WEB;
      checkTemplateUrl(source.value.customBaseUrl);
    } else if (source.case === "web") {
      sourceType = EgressSourceType.WEB;
      if (!isHttpUrl(source.value.url)) throw invalidInput("web url");
      enabled = { audio: !source.value.videoOnly, video: !source.value.audioOnly };
    } else if (source.case === "participant") {
      if (source.value.identity === "") throw invalidInput("identity");
      enabled = { audio: true, video: true };
    } else if (source.case === "trackComposite") {
      const { audioTrackId, videoTrackId } = source.value;
      if (audioTrackId === "" && videoTrackId === "") throw invalidInput("audio_track_id or video_track_id");
      enabled = { audio: audioTrackId !== "", video: videoTrackId !== "" };
    } else {
      enabled = { audio: true, video: true };
    }
    // A track is copied, not encoded: its file is sized by the track, its container by its codec.
    const plan =
      source.case === "track"
        ? trackPlan(this.settings.rooms.track(roomName, source.value.trackId))
        : planEncoding(enabled, source.value.options);
    const outputs =
      source.case === "track"
        ? { file: directFileOf(source.value), stream: null, segments: null, images: [] }
        : selectOutputs(source.value);
    if (outputs.images.length > 0 && !plan.videoEnabled) throw invalidInput("audio_only images");
    // A track's container is known once egress subscribes to it (activate).
    const format =
      outputs.file && source.case !== "track" ? resolveFileFormat(outputs.file.fileType, plan) : null;
    const streamKind = outputs.stream ? streamKindOf(outputs.stream) : null;
    // A stream output without URLs is only valid beside another output.
    const others = (outputs.file ? 1 : 0) + (outputs.segments ? 1 : 0) + outputs.images.length;
    if (outputs.stream && outputs.stream.urls.length === 0 && others === 0) throw invalidInput("stream url");
    const streamTargets =
      outputs.stream && streamKind ? outputs.stream.urls.map((url) => streamTarget(url, streamKind)) : [];

    const egressId = newId("EG_");
    const roomId = room?.sid ?? "";
    const names: FilenameContext = { roomName, roomId, now: new Date() };
    const file = outputs.file
      ? new FileInfo({
          filename: format
            ? resolveFilename(outputs.file.filepath, format, names)
            : substituteFilename(outputs.file.filepath, names),
        })
      : null;
    const segmentPlan = outputs.segments ? planSegments(outputs.segments, names) : null;
    const imagePlans = outputs.images.map((image) => planImages(image, plan, names));
    const segmentsInfo = segmentPlan
      ? new SegmentsInfo({
          playlistName: inStorageDir(segmentPlan, segmentPlan.playlistFilename),
          livePlaylistName:
            segmentPlan.livePlaylistFilename === ""
              ? ""
              : inStorageDir(segmentPlan, segmentPlan.livePlaylistFilename),
        })
      : null;
    const imagesInfos = imagePlans.map((image) => new ImagesInfo({ filenamePrefix: image.filenamePrefix }));
    const streamInfos = streamTargets.map(newStreamInfo);
    // egress sets the deprecated single result only when one output of one type is asked for.
    const only =
      (file ? 1 : 0) + (segmentsInfo ? 1 : 0) + imagesInfos.length + (outputs.stream ? 1 : 0) === 1;
    const result: EgressInfo["result"] =
      only && file
        ? { case: "file", value: file }
        : only && segmentsInfo
          ? { case: "segments", value: segmentsInfo }
          : only && outputs.stream
            ? { case: "stream", value: new StreamInfoList({ info: streamInfos }) }
            : { case: undefined };
    const info = new EgressInfo({
      egressId,
      roomId,
      roomName,
      sourceType,
      status: EgressStatus.EGRESS_STARTING,
      // Egress stamps the request when it takes it, not when it begins recording.
      startedAt: nowNanos(),
      updatedAt: nowNanos(),
      request: redactedSource(source),
      fileResults: file ? [file] : [],
      streamResults: streamInfos,
      segmentResults: segmentsInfo ? [segmentsInfo] : [],
      imageResults: imagesInfos,
      result,
    });
    const { storagePrefix, defaultStorage, backupStorage } = this.settings;
    // Each output uploads with its own s3 block, else egress' configured storage.
    const targetOf = (upload: { case: string | undefined; value?: unknown }): S3Target | null => {
      if (upload.case === "s3")
        return targetFromRequest(upload.value as Parameters<typeof targetFromRequest>[0], storagePrefix);
      return defaultStorage ? targetFromDefault(defaultStorage, storagePrefix) : null;
    };
    const target = outputs.file ? targetOf(outputs.file.output) : null;
    const anyTarget =
      target ??
      (outputs.segments ? targetOf(outputs.segments.output) : null) ??
      (outputs.images[0] ? targetOf(outputs.images[0].output) : null);

    const run: EgressRun = {
      info,
      plan,
      format,
      file,
      target,
      segments:
        segmentPlan && segmentsInfo && outputs.segments
          ? {
              plan: segmentPlan,
              info: segmentsInfo,
              target: targetOf(outputs.segments.output),
              playlists: new Playlists(segmentPlan.segmentDuration),
              openedAtMs: null,
              nextIndex: 0,
              lastPlaylistUploadMs: null,
              locations: [],
              playlistLocation: "",
            }
          : null,
      images: imagePlans.map((image, index) => ({
        plan: image,
        info: imagesInfos[index] ?? new ImagesInfo(),
        target: targetOf(outputs.images[index]?.output ?? { case: undefined }),
        nextIndex: 0,
        locations: [],
      })),
      streams: streamKind
        ? {
            kind: streamKind,
            live: new Map(
              streamTargets.map((target, index) => [
                target.parsedUrl,
                {
                  target,
                  info: streamInfos[index] ?? newStreamInfo(target),
                  connection: null,
                  progressed: false,
                  disconnectedAtMs: null,
                },
              ]),
            ),
          }
        : null,
      uploads: Promise.resolve(),
      backup: anyTarget && backupStorage ? targetFromDefault(backupStorage, backupStorage.prefix) : null,
      trackCodec: "",
      primaryFailed: false,
      // egress writes a manifest unless every output disables it.
      disableManifest: [outputs.file, outputs.segments, ...outputs.images].every(
        (output) => !output || output.disableManifest,
      ),
      running: true,
      crashed: false,
      source,
      layout: source.case === "roomComposite" ? source.value.layout : null,
      awaitingStartSignal: true,
      pageSignalled: false,
      forgotten: false,
      activeSinceMs: null,
      plannedFault: this.takePlannedFault(),
      timers: new Set(),
      upload: null,
    };
    this.runs.set(egressId, run);
    this.settings.logger.info(
      {
        egressId,
        roomName,
        filename: file?.filename,
        playlist: segmentsInfo?.playlistName,
        images: imagesInfos.map((image) => image.filenamePrefix),
        streams: streamTargets.map((target) => redactStreamKey(target.parsedUrl)),
        plannedFault: run.plannedFault,
      },
      "egress starting",
    );
    this.emit(run, "egress_started");
    // The session limit counts from the start of the pipeline, start signal or not.
    const { maxDurationMs } = this.settings.faults();
    if (maxDurationMs !== null) this.after(run, maxDurationMs, () => this.limitReached(run));
    if (source.case !== "roomComposite" && source.case !== "web") {
      this.after(run, this.settings.sourceWaitMs, () => this.sourceNotFound(run));
    }
    if (source.case === "web") this.openPage(run, source.value);
    else this.checkStartSignal(run);
    return info.clone();
  }

  /**
   * egress' web source: Chrome loads the page (a load error fails the egress), then records at
   * once, or from the page's start signal when the request awaits one.
   */
  private openPage(run: EgressRun, request: WebEgressRequest): void {
    const loading = loadPage(request.url, this.settings.pageLoadTimeoutMs).then((page) => {
      if (!run.running || run.crashed || run.info.status !== EgressStatus.EGRESS_STARTING) return;
      if (!page.loaded) {
        this.settings.logger.info(
          { egressId: run.info.egressId, error: page.error },
          "web page did not load",
        );
        this.failRun(run, page.error, 400);
        return;
      }
      run.pageSignalled = !request.awaitStartSignal || page.startSignal;
      this.checkStartSignal(run);
    });
    const tracked = loading.finally(() => this.finishing.delete(tracked));
    this.finishing.add(tracked);
  }

  /**
   * A participant left its room: a participant egress recording it ends as egress' SDK source
   * does when its participant disconnects — normally, uploading what it has; so does a track
   * egress whose track left with it.
   */
  participantLeft(roomName: string, identity: string): void {
    for (const run of this.runs.values()) {
      if (run.source.case !== "participant" || run.source.value.identity !== identity) continue;
      if (run.info.roomName !== roomName || !run.running || run.crashed) continue;
      if (run.info.status === EgressStatus.EGRESS_ACTIVE) this.sourceClosed(run);
    }
    this.trackGone(roomName);
  }

  /** A track was unpublished (or left with its participant): a track egress of it ends normally. */
  trackGone(roomName: string): void {
    for (const run of this.runs.values()) {
      if (run.source.case !== "track" || run.info.roomName !== roomName) continue;
      if (!run.running || run.crashed || run.info.status !== EgressStatus.EGRESS_ACTIVE) continue;
      if (!this.settings.rooms.hasTrack(roomName, run.source.value.trackId)) this.sourceClosed(run);
    }
  }

  /** An ACTIVE egress whose source ended (room closed, participant left): it ends normally, with its file. */
  private sourceClosed(run: EgressRun): void {
    this.clearTimers(run);
    run.info.details = END_REASON_SOURCE_CLOSED;
    this.setStatus(run, EgressStatus.EGRESS_ENDING);
    this.emit(run, "egress_updated");
    this.finish(run, EgressStatus.EGRESS_COMPLETE);
  }

  /** A track was published in a room: its egresses waiting for the start signal look again. */
  trackPublished(roomName: string): void {
    for (const run of this.runs.values()) {
      if (run.info.roomName === roomName) this.checkStartSignal(run);
    }
  }

  /**
   * A room closed: egress' source ends. One still waiting for its start signal aborts; one
   * recording ends normally and uploads what it has.
   */
  roomClosed(roomName: string): void {
    for (const run of this.runs.values()) {
      if (run.info.roomName !== roomName || !run.running || run.crashed) continue;
      const { status } = run.info;
      if (status === EgressStatus.EGRESS_STARTING) {
        this.clearTimers(run);
        run.info.details = END_REASON_SOURCE_CLOSED;
        const message = run.awaitingStartSignal ? MSG_START_NOT_RECEIVED : MSG_STOPPED_BEFORE_STARTED;
        this.end(run, EgressStatus.EGRESS_ABORTED, message, 412);
      } else if (status === EgressStatus.EGRESS_ACTIVE) {
        this.sourceClosed(run);
      }
    }
  }

  /**
   * LiveKit forgets egress records: every ended one (what its 24 h purge does), or with `all`
   * the running ones too (its Redis lost its data). A running egress reappears when it next
   * reports a change.
   */
  forget(options: { all: boolean }): number {
    let forgotten = 0;
    for (const [egressId, run] of [...this.runs]) {
      if (!run.running || run.crashed) {
        if (options.all || !run.running) {
          this.purge(egressId);
          forgotten += 1;
        }
      } else if (options.all) {
        run.forgotten = true;
        forgotten += 1;
      }
    }
    return forgotten;
  }

  /**
   * UpdateLayout as livekit-server does it (pkg/service/egress.go): it reads the egress from its
   * records (404 once forgotten), then sets the layout as metadata of the egress' own participant
   * in the room, which the template watches. That participant is there only while the egress'
   * web source runs: otherwise RoomService answers "participant does not exist". The answer is
   * the stored EgressInfo, whose request keeps the layout it started with.
   */
  updateLayout(egressId: string, layout: string): EgressInfo {
    const run = this.known(egressId);
    if (!run) throw new TwirpError("not_found", "egress does not exist");
    const { status } = run.info;
    const inRoom =
      run.running &&
      !run.crashed &&
      run.source.case === "roomComposite" &&
      (status === EgressStatus.EGRESS_STARTING || status === EgressStatus.EGRESS_ACTIVE);
    if (!inRoom) throw new TwirpError("not_found", "participant does not exist");
    run.layout = layout;
    this.settings.logger.info({ egressId, layout }, "egress layout updated");
    return run.info.clone();
  }

  /**
   * StopEgress as livekit-server answers it: it asks the egress' own instance first (psrpc,
   * addressed by egress id), which answers while its handler process lives, whatever LiveKit's
   * records say; only when no instance answers does it read those records (404 once forgotten).
   */
  stop(egressId: string): EgressInfo {
    const live = this.runs.get(egressId);
    const run = live?.running && !live.crashed ? live : this.known(egressId);
    if (!run) throw new TwirpError("not_found", "egress does not exist");
    const { status } = run.info;
    if (run.crashed) {
      // livekit-server gets no answer from the dead instance; it only explains the ones that ended.
      if (status === EgressStatus.EGRESS_STARTING || status === EgressStatus.EGRESS_ACTIVE) {
        throw new TwirpError("deadline_exceeded", "request timed out");
      }
      throw cannotStop(status);
    }
    if (!run.running) throw cannotStop(status);
    if (status === EgressStatus.EGRESS_STARTING) {
      this.clearTimers(run);
      run.info.details = END_REASON.api;
      const message = run.awaitingStartSignal ? MSG_START_NOT_RECEIVED : MSG_STOPPED_BEFORE_STARTED;
      this.end(run, EgressStatus.EGRESS_ABORTED, message, 412);
    } else if (status === EgressStatus.EGRESS_ACTIVE) {
      this.clearTimers(run);
      run.info.details = END_REASON.api;
      this.setStatus(run, EgressStatus.EGRESS_ENDING);
      this.emit(run, "egress_updated");
      // The instance answers with its info as of the end of stream, before the upload.
      const answer = run.info.clone();
      this.finish(run, EgressStatus.EGRESS_COMPLETE);
      return answer;
    }
    // ENDING, or LIMIT_REACHED still uploading: egress ignores a second end of stream.
    return run.info.clone();
  }

  list(request: ListEgressRequest): EgressInfo[] {
    if (request.egressId !== "") {
      const run = this.known(request.egressId);
      if (!run) throw new TwirpError("not_found", "egress does not exist");
      return [run.info.clone()];
    }
    return [...this.runs.values()]
      .filter((run) => !run.forgotten)
      .filter((run) => request.roomName === "" || run.info.roomName === request.roomName)
      .filter((run) => !request.active || isActiveStatus(run.info.status))
      .map((run) => run.info.clone());
  }

  /** Makes a running egress fail now, as a pipeline error would. */
  fail(egressId: string, options: FailOptions = {}): EgressInfo {
    const run = this.requireRunning(egressId);
    this.failRun(run, options.error ?? this.settings.faults().failError, options.errorCode ?? 503);
    return run.info.clone();
  }

  /** Kills the egress' instance: its status freezes, no webhook follows, its file is lost. */
  crash(egressId: string): EgressInfo {
    const run = this.requireRunning(egressId);
    this.crashRun(run);
    return run.info.clone();
  }

  snapshots(): EgressSnapshot[] {
    return [...this.runs.values()].map((run) => this.snapshot(run));
  }

  snapshot(run: EgressRun): EgressSnapshot {
    return {
      info: run.info.toJson(WIRE_JSON) as Record<string, unknown>,
      layout: run.layout,
      running: run.running,
      crashed: run.crashed,
      bitrateKbps: totalBitrateKbps(run.plan),
      upload: run.upload ? { ...run.upload } : null,
    };
  }

  find(egressId: string): EgressSnapshot | undefined {
    const run = this.runs.get(egressId);
    return run ? this.snapshot(run) : undefined;
  }

  /** Resolves when no upload is in flight. */
  async idle(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all([...this.finishing]);
  }

  /** Forgets every egress; uploads in flight finish but change nothing. */
  reset(): void {
    for (const run of this.runs.values()) {
      this.clearTimers(run);
      this.endStreams(run, null, nowNanos());
      run.running = false;
    }
    for (const timer of [...this.purgeTimers.values(), ...this.autoRoomTimers.values()]) clearTimeout(timer);
    this.purgeTimers.clear();
    this.autoRoomTimers.clear();
    this.runs.clear();
  }

  private known(egressId: string): EgressRun | undefined {
    const run = this.runs.get(egressId);
    return run && !run.forgotten ? run : undefined;
  }

  private purge(egressId: string): void {
    const timer = this.purgeTimers.get(egressId);
    if (timer) clearTimeout(timer);
    this.purgeTimers.delete(egressId);
    this.runs.delete(egressId);
  }

  private openAutoRoom(roomName: string) {
    const notFound = new TwirpError("not_found", "requested room does not exist");
    if (!this.settings.autoRoom) throw notFound;
    const open = () => {
      this.autoRoomTimers.delete(roomName);
      if (this.settings.rooms.get(roomName)) return;
      this.settings.rooms.join(roomName, {
        identity: AUTO_ROOM_PARTICIPANT,
        publish: ["microphone", "camera"],
      });
      this.settings.logger.info({ room: roomName }, "room opened for the egress (autoRoom)");
    };
    if (this.settings.autoRoomDelayMs > 0) {
      if (!this.autoRoomTimers.has(roomName)) {
        this.autoRoomTimers.set(roomName, setTimeout(open, this.settings.autoRoomDelayMs));
      }
      throw notFound;
    }
    open();
    const room = this.settings.rooms.get(roomName);
    if (!room) throw notFound;
    return room;
  }

  /** Schedules the move to ACTIVE once the room has what the template waits for. */
  private checkStartSignal(run: EgressRun): void {
    if (!run.awaitingStartSignal || !run.running || run.crashed) return;
    if (run.info.status !== EgressStatus.EGRESS_STARTING) return;
    const { rooms } = this.settings;
    const roomName = run.info.roomName;
    const { source } = run;
    let ready: boolean;
    switch (source.case) {
      case "roomComposite":
        ready = rooms.hasStartSignal(roomName, !run.plan.videoEnabled);
        break;
      case "web":
        ready = run.pageSignalled;
        break;
      case "participant":
        ready = rooms.publishes(roomName, source.value.identity);
        break;
      case "trackComposite":
        ready = [source.value.audioTrackId, source.value.videoTrackId].every(
          (trackId) => trackId === "" || rooms.hasTrack(roomName, trackId),
        );
        break;
      case "track":
        ready = this.subscribeTrack(run, source.value);
        break;
    }
    if (!ready) return;
    run.awaitingStartSignal = false;
    this.after(run, this.settings.faults().activationDelayMs, () => this.activate(run));
  }

  /**
   * A track egress subscribes to its track: the track's codec decides the container, and so the
   * file's extension (egress' updateFilepath replaces the requested one).
   */
  private subscribeTrack(run: EgressRun, request: TrackEgressRequest): boolean {
    const track = this.settings.rooms.track(run.info.roomName, request.trackId);
    if (!track || !run.file) return track !== undefined;
    const format = trackFormatOf(track);
    if (!format) return false;
    run.format = format;
    run.plan = trackPlan(track);
    run.trackCodec = track.mimeType;
    const requested = request.output.case === "file" ? request.output.value.filepath : "";
    const names = { roomName: run.info.roomName, roomId: run.info.roomId, now: new Date() };
    run.file.filename = resolveFilename(requested, format, names);
    return true;
  }

  /** The SDK source's wait ran out: egress fails with what it did not find (psrpc NotFound). */
  private sourceNotFound(run: EgressRun): void {
    if (!run.awaitingStartSignal || !run.running || run.crashed) return;
    if (run.info.status !== EgressStatus.EGRESS_STARTING) return;
    const { source } = run;
    const { rooms } = this.settings;
    let missing = "";
    if (source.case === "participant") missing = `participant ${source.value.identity} not found`;
    else if (source.case === "track") missing = `track ${source.value.trackId} not found`;
    else if (source.case === "trackComposite") {
      const absent = [source.value.audioTrackId, source.value.videoTrackId].find(
        (trackId) => trackId !== "" && !rooms.hasTrack(run.info.roomName, trackId),
      );
      missing = `track ${absent ?? ""} not found`;
    }
    if (missing === "") return;
    this.clearTimers(run);
    run.info.details = END_REASON.failure;
    this.end(run, EgressStatus.EGRESS_FAILED, missing, 404);
  }

  private liveCount(): number {
    let count = 0;
    for (const run of this.runs.values()) if (run.running && !run.crashed) count += 1;
    return count;
  }

  private takePlannedFault(): EgressRun["plannedFault"] {
    if (this.pendingCrashes > 0) {
      this.pendingCrashes -= 1;
      return "crash";
    }
    if (this.pendingFails > 0) {
      this.pendingFails -= 1;
      return "fail";
    }
    return null;
  }

  private requireRunning(egressId: string): EgressRun {
    const run = this.runs.get(egressId);
    if (!run) throw new EgressAdminError(404, `no egress ${egressId}`);
    if (run.crashed) throw new EgressAdminError(409, `egress ${egressId} has already crashed`);
    if (!run.running) {
      throw new EgressAdminError(
        409,
        `egress ${egressId} has already ended (${statusName(run.info.status)})`,
      );
    }
    return run;
  }

  private activate(run: EgressRun): void {
    if (!run.running || run.crashed || run.info.status !== EgressStatus.EGRESS_STARTING) return;
    const now = nowNanos();
    run.activeSinceMs = Date.now();
    if (run.file) run.file.startedAt = now;
    this.setStatus(run, EgressStatus.EGRESS_ACTIVE);
    this.settings.logger.info({ egressId: run.info.egressId }, "egress active");
    this.emit(run, "egress_updated");
    const faults = this.settings.faults();
    if (run.plannedFault === "crash") {
      this.crashRun(run);
      return;
    }
    if (run.plannedFault === "fail") {
      this.after(run, faults.failAfterMs, () => this.failRun(run, faults.failError, 503));
    }
    this.startSinks(run, now);
  }

  /** Segments close every segmentDuration and images are taken every captureInterval, from now. */
  private startSinks(run: EgressRun, now: bigint): void {
    const { segments } = run;
    if (segments) {
      segments.openedAtMs = Date.now();
      segments.info.startedAt = now;
      this.every(run, segments.plan.segmentDuration * 1000, () => this.closeSegment(run, segments));
    }
    for (const sink of run.images) {
      sink.info.startedAt = now;
      this.captureImage(run, sink);
      this.every(run, sink.plan.captureInterval * 1000, () => this.captureImage(run, sink));
    }
    for (const sink of run.streams?.live.values() ?? []) {
      // SRT streams count from the pipeline's start; RTMP ones from their publish (egress).
      if (sink.target.kind === "srt") sink.info.startedAt = now;
      this.connect(run, sink);
    }
  }

  /**
   * UpdateStream as livekit-server and egress answer it: adds first, then removes, each URL on
   * its own; what failed is reported together (the first error's code) after the rest was done.
   * Removing the last output ends the egress ("All streams stopped").
   */
  updateStream(egressId: string, add: readonly string[], remove: readonly string[]): EgressInfo {
    const run = this.known(egressId);
    if (!run) throw new TwirpError("not_found", "egress does not exist");
    const { status } = run.info;
    const updatable = status === EgressStatus.EGRESS_STARTING || status === EgressStatus.EGRESS_ACTIVE;
    if (run.crashed && updatable) throw new TwirpError("deadline_exceeded", "request timed out");
    if (!run.running || !updatable) {
      throw new TwirpError(
        "failed_precondition",
        `egress with status ${statusName(status)} cannot be updated`,
      );
    }
    const { streams } = run;
    if (!streams) throw new TwirpError("invalid_argument", "UpdateStream called on non-streaming egress");
    const errors: TwirpError[] = [];
    for (const url of add) {
      let target: StreamTarget;
      try {
        target = streamTarget(url, streams.kind);
      } catch (error) {
        if (!(error instanceof TwirpError)) throw error;
        errors.push(error);
        continue;
      }
      const sink: StreamSink = {
        target,
        info: newStreamInfo(target),
        connection: null,
        progressed: false,
        disconnectedAtMs: null,
      };
      if (target.kind === "srt" && status === EgressStatus.EGRESS_ACTIVE) sink.info.startedAt = nowNanos();
      streams.live.set(target.parsedUrl, sink);
      run.info.streamResults.push(sink.info);
      if (run.info.result.case === "stream") run.info.result.value.info.push(sink.info);
      if (status === EgressStatus.EGRESS_ACTIVE) this.connect(run, sink);
    }
    for (const url of remove) {
      const parsed = /^mux:\/\//.test(url) ? `rtmps://global-live.mux.com:443/app/${url.slice(6)}` : url;
      const sink = streams.live.get(parsed);
      if (!sink) {
        errors.push(new TwirpError("not_found", `stream ${url} not found`));
        continue;
      }
      this.streamFinished(run, sink);
    }
    run.info.updatedAt = nowNanos();
    if (run.running && run.info.status === status) this.emit(run, "egress_updated");
    const [first] = errors;
    if (first) throw new TwirpError(first.code, errors.map((error) => error.message).join("\n"));
    return run.info.clone();
  }

  /** Opens a stream's connection; its breaks are retried or fail it, as egress' sink does. */
  private connect(run: EgressRun, sink: StreamSink): void {
    const { settings } = this;
    sink.connection = connectStream(
      sink.target,
      { connectTimeoutMs: settings.streamConnectTimeoutMs, mediaIntervalMs: settings.streamMediaIntervalMs },
      {
        started: () => {
          if (!this.streaming(run, sink)) return;
          sink.progressed = true;
          sink.disconnectedAtMs = null;
          if (sink.info.startedAt === 0n) {
            sink.info.startedAt = nowNanos();
            run.info.updatedAt = nowNanos();
            this.emit(run, "egress_updated");
          }
        },
        broke: (error) => {
          if (!this.streaming(run, sink)) return;
          sink.connection = null;
          const now = Date.now();
          // A first error before any media is a bad URL or key: egress fails it at once.
          if (!sink.progressed) {
            this.streamFailed(run, sink, error.message);
            return;
          }
          sink.disconnectedAtMs ??= now;
          if (now - sink.disconnectedAtMs > settings.streamGiveUpMs) {
            this.streamFailed(run, sink, error.message);
            return;
          }
          sink.info.retries += 1;
          sink.info.lastRetryAt = nowNanos();
          run.info.updatedAt = nowNanos();
          this.emit(run, "egress_updated");
          this.after(run, settings.streamRetryDelayMs, () => {
            if (this.streaming(run, sink)) this.connect(run, sink);
          });
        },
      },
    );
  }

  /** The sink still belongs to a live egress that streams. */
  private streaming(run: EgressRun, sink: StreamSink): boolean {
    return (
      run.running &&
      !run.crashed &&
      run.info.status === EgressStatus.EGRESS_ACTIVE &&
      run.streams?.live.get(sink.target.parsedUrl) === sink
    );
  }

  /** Outputs still writing: the file, the segments, each image output, each live stream. */
  private outputCount(run: EgressRun): number {
    return (run.file ? 1 : 0) + (run.segments ? 1 : 0) + run.images.length + (run.streams?.live.size ?? 0);
  }

  /** egress' streamFinished: removed by UpdateStream; the last output gone ends the egress. */
  private streamFinished(run: EgressRun, sink: StreamSink): void {
    sink.info.status = StreamInfo_Status.FINISHED;
    endStream(sink.info, nowNanos());
    this.closeStream(run, sink);
    this.settings.logger.info(
      { egressId: run.info.egressId, url: redactStreamKey(sink.target.parsedUrl) },
      "stream finished",
    );
    if (this.outputCount(run) > 0) return;
    if (run.info.status === EgressStatus.EGRESS_STARTING) {
      this.clearTimers(run);
      run.info.details = END_REASON_STREAMS_STOPPED;
      this.end(run, EgressStatus.EGRESS_ABORTED, MSG_STOPPED_BEFORE_STARTED, 412);
      return;
    }
    this.clearTimers(run);
    run.info.details = END_REASON_STREAMS_STOPPED;
    this.setStatus(run, EgressStatus.EGRESS_ENDING);
    this.emit(run, "egress_updated");
    this.finish(run, EgressStatus.EGRESS_COMPLETE);
  }

  /** egress' streamFailed: the stream is dropped; with no output left the egress fails. */
  private streamFailed(run: EgressRun, sink: StreamSink, error: string): void {
    sink.info.status = StreamInfo_Status.FAILED;
    sink.info.error = error;
    endStream(sink.info, nowNanos());
    this.closeStream(run, sink);
    this.settings.logger.info(
      { egressId: run.info.egressId, url: redactStreamKey(sink.target.parsedUrl), error },
      "stream failed",
    );
    if (this.outputCount(run) === 0) {
      this.failRun(run, error, 503);
      return;
    }
    run.info.updatedAt = nowNanos();
    this.emit(run, "egress_updated");
  }

  private closeStream(run: EgressRun, sink: StreamSink): void {
    sink.connection?.close();
    sink.connection = null;
    run.streams?.live.delete(sink.target.parsedUrl);
  }

  /** The egress ended: its streams end with it (FINISHED, or FAILED when it failed). */
  private endStreams(run: EgressRun, status: StreamInfo_Status | null, endedAt: bigint): void {
    for (const sink of [...(run.streams?.live.values() ?? [])]) {
      if (status !== null) {
        sink.info.status = status;
        endStream(sink.info, endedAt);
      }
      this.closeStream(run, sink);
    }
  }

  /** Queues an upload made while recording; a failure fails the egress (egress' OnError). */
  private queueUpload(run: EgressRun, upload: () => Promise<void>): void {
    run.uploads = run.uploads.then(async () => {
      if (!run.running || run.crashed) return;
      try {
        await upload();
      } catch (error) {
        if (!run.running || run.crashed) return;
        this.settings.logger.warn(
          { egressId: run.info.egressId, error: (error as Error).message },
          "upload failed",
        );
        this.clearTimers(run);
        this.failRun(run, (error as Error).message, 400);
      }
    });
  }

  /**
   * One segment ends: it is uploaded, then appended to the playlist, which is uploaded (after
   * the first, only every N segments in the Nth hour or once a minute: egress'
   * shouldUploadPlaylist) with the live playlist every time. `final` is the end of stream.
   */
  private closeSegment(run: EgressRun, sink: SegmentSink, final = false): void {
    const openedAtMs = sink.openedAtMs;
    if (openedAtMs === null) return;
    const endMs = Date.now();
    sink.openedAtMs = endMs;
    const name = segmentName(sink.plan, sink.nextIndex);
    sink.nextIndex += 1;
    const bytes = payloadSize(totalBitrateKbps(run.plan), endMs - openedAtMs, this.settings.payloadCapBytes);
    this.queueUpload(run, async () => {
      const path = inStorageDir(sink.plan, name);
      const { target } = sink;
      if (target) {
        const body = await this.media(
          run,
          "video/mp2t",
          endMs - openedAtMs,
          openedAtMs - (run.activeSinceMs ?? openedAtMs),
          () => transportStreamPayload(bytes, run.info.egressId),
        );
        const stored = await this.store(run, target, path, body, "video/mp2t");
        sink.locations.push({ filename: path, location: stored.location });
      }
      sink.info.segmentCount += 1n;
      sink.info.size += BigInt(bytes);
      sink.playlists.append(new Date(openedAtMs), (endMs - openedAtMs) / 1000, name);
      const hoursIn = Math.floor((endMs - (run.activeSinceMs ?? endMs)) / 3_600_000);
      const due =
        final ||
        sink.lastPlaylistUploadMs === null ||
        sink.playlists.count % (hoursIn + 1) === 0 ||
        endMs - sink.lastPlaylistUploadMs > 60_000;
      // egress ignores a failed playlist upload until the end, when it must succeed.
      if (due && !final) await this.uploadPlaylists(run, sink, false).catch(() => undefined);
      else if (sink.plan.livePlaylistFilename !== "" && !final) {
        await this.uploadLivePlaylist(run, sink, false).catch(() => undefined);
      }
    });
  }

  private async uploadPlaylists(run: EgressRun, sink: SegmentSink, closed: boolean): Promise<void> {
    const { target } = sink;
    if (target) {
      const path = inStorageDir(sink.plan, sink.plan.playlistFilename);
      const body = Buffer.from(sink.playlists.event(closed), "utf8");
      const stored = await this.store(run, target, path, body, "application/x-mpegurl");
      sink.playlistLocation = stored.location;
      sink.info.playlistLocation = stored.location;
    }
    sink.lastPlaylistUploadMs = Date.now();
    if (sink.plan.livePlaylistFilename !== "") await this.uploadLivePlaylist(run, sink, closed);
  }

  private async uploadLivePlaylist(run: EgressRun, sink: SegmentSink, closed: boolean): Promise<void> {
    const { target } = sink;
    if (!target) return;
    const path = inStorageDir(sink.plan, sink.plan.livePlaylistFilename);
    const body = Buffer.from(sink.playlists.live(closed), "utf8");
    const stored = await this.store(run, target, path, body, "application/x-mpegurl");
    sink.info.livePlaylistLocation = stored.location;
  }

  /** One thumbnail: a JPEG of the output's size, uploaded under its index. */
  private captureImage(run: EgressRun, sink: ImageSink): void {
    const index = sink.nextIndex;
    sink.nextIndex += 1;
    const timestamp = new Date().toISOString();
    this.queueUpload(run, async () => {
      const path = imagePath(sink.plan, index);
      const { target } = sink;
      if (target) {
        const body = thumbnailJpeg(sink.plan.width, sink.plan.height, index);
        const stored = await this.store(run, target, path, body, "image/jpeg");
        sink.locations.push({ filename: path, timestamp, location: stored.location });
      }
      sink.info.imageCount += 1n;
    });
  }

  private limitReached(run: EgressRun): void {
    if (!run.running || run.crashed) return;
    if (run.info.status === EgressStatus.EGRESS_STARTING) {
      this.clearTimers(run);
      run.info.details = END_REASON.limit;
      this.end(run, EgressStatus.EGRESS_ABORTED, MSG_LIMIT_REACHED_WITHOUT_START, 412);
      return;
    }
    if (run.info.status !== EgressStatus.EGRESS_ACTIVE) return;
    this.clearTimers(run);
    run.info.details = END_REASON.limit;
    run.info.error = MSG_LIMIT_REACHED;
    run.info.errorCode = 413;
    run.info.endedAt = nowNanos();
    this.setStatus(run, EgressStatus.EGRESS_LIMIT_REACHED);
    this.settings.logger.info({ egressId: run.info.egressId }, "egress reached its duration limit");
    this.finish(run, EgressStatus.EGRESS_LIMIT_REACHED);
  }

  private failRun(run: EgressRun, error: string, errorCode: number): void {
    if (!run.running || run.crashed) return;
    this.clearTimers(run);
    run.info.details = END_REASON.failure;
    this.settings.logger.info({ egressId: run.info.egressId, error }, "egress failed");
    this.end(run, EgressStatus.EGRESS_FAILED, error, errorCode);
  }

  private crashRun(run: EgressRun): void {
    this.clearTimers(run);
    // The instance's sockets die with it: the ingest sees the streams drop; nobody reports it.
    for (const sink of run.streams?.live.values() ?? []) sink.connection?.close();
    run.crashed = true;
    this.settings.logger.info(
      { egressId: run.info.egressId, status: statusName(run.info.status) },
      "egress instance crashed",
    );
  }

  /**
   * Ends the recording: the open segment is flushed, the file written and uploaded, the
   * playlists closed, the manifest written, then the egress reports its end.
   */
  private finish(run: EgressRun, endStatus: EgressStatus): void {
    const endedAt = nowNanos();
    this.endStreams(run, StreamInfo_Status.FINISHED, endedAt);
    const activeMs = run.activeSinceMs === null ? 0 : Date.now() - run.activeSinceMs;
    let upload: UploadRecord | null = null;
    if (run.file && run.format) {
      run.file.endedAt = endedAt;
      run.file.duration = run.file.startedAt > 0n ? endedAt - run.file.startedAt : 0n;
      upload = {
        outcome: "pending",
        key: run.file.filename,
        contentType: run.format.contentType,
        bytes: payloadSize(totalBitrateKbps(run.plan), activeMs, this.settings.payloadCapBytes),
        attempts: 0,
        backupUsed: false,
        ...(run.target ? { bucket: run.target.bucket } : {}),
      };
    }
    run.upload = upload;
    if (run.segments) this.closeSegment(run, run.segments, true);
    const done = this.writeOutputs(run, upload, endStatus, endedAt).finally(() =>
      this.finishing.delete(done),
    );
    this.finishing.add(done);
  }

  /**
   * One upload as egress' uploader makes it: to the primary storage with its retries, then,
   * failing that, to the backup storage (and there at once for every later upload).
   */
  private async store(
    run: EgressRun,
    target: S3Target,
    filepath: string,
    body: Buffer,
    contentType: string,
    upload?: UploadRecord,
  ): Promise<{ location: string; key: string; bucket: string }> {
    const options = {
      timeoutMs: this.settings.uploadTimeoutMs,
      retryDelayMs: (retry: number) => Math.min(this.settings.uploadRetryDelayMs * 2 ** (retry - 1), 5_000),
    };
    const count = (attempts: number) => {
      if (upload) upload.attempts += attempts;
    };
    let primaryError: string | undefined;
    if (!run.primaryFailed) {
      try {
        const done = await uploadWithRetries(target, filepath, body, contentType, options);
        count(done.attempts);
        return { location: done.location, key: done.key, bucket: target.bucket };
      } catch (error) {
        count(target.maxAttempts);
        primaryError = `S3 upload failed: ${(error as Error).message}`;
        run.primaryFailed = run.backup !== null;
      }
    }
    if (!run.backup) throw new Error(primaryError);
    try {
      const done = await uploadWithRetries(run.backup, filepath, body, contentType, options);
      count(done.attempts);
      run.info.backupStorageUsed = true;
      return { location: done.location, key: done.key, bucket: run.backup.bucket };
    } catch (error) {
      count(run.backup.maxAttempts);
      const backupError = `S3 upload failed: ${(error as Error).message}`;
      throw new Error(primaryError ? `primary: ${primaryError}\nbackup: ${backupError}` : backupError);
    }
  }

  /** The file's upload; answers its location, or undefined when it failed (the egress then failed). */
  private async writeFile(run: EgressRun, file: FileInfo, upload: UploadRecord): Promise<string | undefined> {
    const { target } = run;
    let location = file.filename;
    if (target) {
      const durationMs = file.duration > 0n ? Number(file.duration / 1_000_000n) : 0;
      const body = await this.media(run, upload.contentType, durationMs, 0, () =>
        generatePayload(upload.contentType, upload.bytes, run.info.egressId),
      );
      upload.bytes = body.length;
      try {
        const stored = await this.store(run, target, file.filename, body, upload.contentType, upload);
        location = stored.location;
        upload.outcome = "uploaded";
        upload.location = location;
        upload.key = stored.key;
        upload.bucket = stored.bucket;
        upload.backupUsed = run.info.backupStorageUsed;
      } catch (error) {
        upload.outcome = "failed";
        upload.error = (error as Error).message;
      }
    } else {
      upload.outcome = "kept-locally";
      upload.location = location;
    }
    // A crashed instance never reports; a failed or reset egress has already said its last word.
    if (!run.running || run.crashed) return undefined;
    if (upload.outcome === "failed") {
      this.settings.logger.warn(
        { egressId: run.info.egressId, bucket: target?.bucket, error: upload.error },
        "upload failed",
      );
      run.info.details = END_REASON.failure;
      this.end(run, EgressStatus.EGRESS_FAILED, upload.error ?? "S3 upload failed", 400);
      return undefined;
    }
    this.settings.logger.info(
      { egressId: run.info.egressId, location, bytes: upload.bytes, backupUsed: upload.backupUsed },
      target ? "file uploaded" : "file kept on the egress instance (no storage configured)",
    );
    file.location = location;
    file.size = BigInt(upload.bytes);
    return location;
  }

  private async writeOutputs(
    run: EgressRun,
    upload: UploadRecord | null,
    endStatus: EgressStatus,
    endedAt: bigint,
  ): Promise<void> {
    await run.uploads;
    if (!run.running || run.crashed) return;
    let fileLocation = "";
    if (run.file && upload) {
      const location = await this.writeFile(run, run.file, upload);
      if (location === undefined) return;
      fileLocation = location;
    }
    const { segments } = run;
    if (segments) {
      try {
        await this.uploadPlaylists(run, segments, true);
      } catch (error) {
        if (!run.running || run.crashed) return;
        run.info.details = END_REASON.failure;
        this.end(run, EgressStatus.EGRESS_FAILED, (error as Error).message, 400);
        return;
      }
      segments.info.endedAt = endedAt;
      segments.info.duration = segments.info.startedAt > 0n ? endedAt - segments.info.startedAt : 0n;
    }
    for (const sink of run.images) sink.info.endedAt = endedAt;
    if (!run.running || run.crashed) return;
    const complete = endStatus === EgressStatus.EGRESS_COMPLETE;
    const infoEndedAt = complete ? nowNanos() : run.info.endedAt;
    // Egress reports its end once, after the manifest: until then LiveKit shows it finishing.
    const manifestLocation = await this.writeManifests(run, upload, fileLocation, infoEndedAt);
    if (!run.running || run.crashed) return;
    run.info.manifestLocation = manifestLocation;
    if (complete) {
      run.info.endedAt = infoEndedAt;
      this.setStatus(run, EgressStatus.EGRESS_COMPLETE);
    } else {
      run.info.updatedAt = nowNanos();
    }
    run.running = false;
    this.emit(run, "egress_ended");
    this.schedulePurge(run);
  }

  /**
   * The manifest egress uploads last, by every output into its own directory
   * (`<dir>/<egressId>.json`), unless every output disabled it and no backup was used; answers
   * the first one's location ("" when none). Its failure is only logged, as in egress.
   */
  private async writeManifests(
    run: EgressRun,
    upload: UploadRecord | null,
    fileLocation: string,
    endedAt: bigint,
  ): Promise<string> {
    const { info } = run;
    if (run.disableManifest && !info.backupStorageUsed) return "";
    const body = Buffer.from(manifestJson(run, fileLocation, endedAt), "utf8");
    const name = `${info.egressId}.json`;
    const places: { target: S3Target; filepath: string }[] = [];
    if (run.file && run.target)
      places.push({ target: run.target, filepath: posix.join(posix.dirname(run.file.filename), name) });
    if (run.segments?.target) {
      places.push({ target: run.segments.target, filepath: posix.join(run.segments.plan.storageDir, name) });
    }
    for (const sink of run.images) {
      if (sink.target) places.push({ target: sink.target, filepath: posix.join(sink.plan.storageDir, name) });
    }
    let first = "";
    for (const { target, filepath } of places) {
      try {
        const stored = await this.store(run, target, filepath, body, "application/json", upload ?? undefined);
        if (upload && upload.manifestKey === undefined) upload.manifestKey = stored.key;
        if (first === "") first = stored.location;
      } catch (error) {
        this.settings.logger.warn(
          { egressId: info.egressId, error: (error as Error).message },
          "failed to upload manifest",
        );
      }
    }
    return first;
  }

  /**
   * The bytes of a file or segment: rendered media when a renderer is set (the placeholder when
   * it fails, with a warning: the upload must go on as egress' would), else the placeholder.
   */
  private async media(
    run: EgressRun,
    contentType: string,
    durationMs: number,
    offsetMs: number,
    placeholder: () => Buffer,
  ): Promise<Buffer> {
    const { media } = this.settings;
    if (!media) return placeholder();
    const source = run.source.case === "web" ? run.source.value.url : run.info.roomName;
    try {
      return await media.render({
        contentType,
        plan: run.plan,
        trackCodec: run.trackCodec,
        durationMs,
        offsetMs,
        label: source,
      });
    } catch (error) {
      this.settings.logger.warn(
        { egressId: run.info.egressId, contentType, error: (error as Error).message },
        "media render failed: placeholder bytes uploaded instead",
      );
      return placeholder();
    }
  }

  /** A terminal status that needs no upload (ABORTED, FAILED): set, announce, done. */
  private end(run: EgressRun, status: EgressStatus, error: string, errorCode: number): void {
    const now = nowNanos();
    this.endStreams(run, status === EgressStatus.EGRESS_FAILED ? StreamInfo_Status.FAILED : null, now);
    run.info.error = error;
    run.info.errorCode = errorCode;
    run.info.endedAt = now;
    this.setStatus(run, status);
    run.running = false;
    this.emit(run, "egress_ended");
    this.schedulePurge(run);
  }

  private schedulePurge(run: EgressRun): void {
    const { egressId } = run.info;
    const timer = setTimeout(() => {
      if (this.runs.get(egressId) === run) this.purge(egressId);
    }, this.settings.endedRetentionMs);
    timer.unref();
    this.purgeTimers.set(egressId, timer);
  }

  private setStatus(run: EgressRun, status: EgressStatus): void {
    run.info.status = status;
    run.info.updatedAt = nowNanos();
    // Its next report stores the egress again in LiveKit's (emptied) Redis.
    run.forgotten = false;
  }

  private emit(run: EgressRun, event: EgressEventName): void {
    this.settings.notify(event, { egressInfo: run.info });
  }

  private after(run: EgressRun, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      action();
    }, ms);
    run.timers.add(timer);
  }

  private every(run: EgressRun, ms: number, action: () => void): void {
    // Node's clearTimeout clears an interval too: clearTimers ends both.
    run.timers.add(setInterval(action, ms));
  }

  private clearTimers(run: EgressRun): void {
    for (const timer of run.timers) clearTimeout(timer);
    run.timers.clear();
  }
}

/**
 * egress' Manifest as it encodes it (pkg/config/manifest.go): snake_case, empty fields left out,
 * int64 nanoseconds as JSON numbers, a trailing newline.
 */
function manifestJson(run: EgressRun, fileLocation: string, endedAt: bigint): string {
  const { info } = run;
  const fields: string[] = [];
  const text = (name: string, value: string) => {
    if (value !== "") fields.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  };
  const nanos = (name: string, value: bigint) => {
    if (value !== 0n) fields.push(`${JSON.stringify(name)}:${value.toString()}`);
  };
  text("egress_id", info.egressId);
  text("room_id", info.roomId);
  text("room_name", info.roomName);
  nanos("started_at", info.startedAt);
  nanos("ended_at", endedAt);
  if (run.file)
    fields.push(`"files":${JSON.stringify([{ filename: run.file.filename, location: fileLocation }])}`);
  if (run.segments) {
    const playlist = {
      ...(run.segments.playlistLocation !== "" ? { location: run.segments.playlistLocation } : {}),
      segments: run.segments.locations,
    };
    fields.push(`"playlists":${JSON.stringify([playlist])}`);
  }
  const images = run.images.flatMap((sink) => sink.locations);
  if (images.length > 0) fields.push(`"images":${JSON.stringify(images)}`);
  return `{${fields.join(",")}}\n`;
}

function newStreamInfo(target: StreamTarget): StreamInfo {
  return new StreamInfo({ url: target.shownUrl, status: StreamInfo_Status.ACTIVE });
}

/** egress' Stream.UpdateEndTime: a stream that never started is shown as starting when it ended. */
function endStream(info: StreamInfo, endedAt: bigint): void {
  info.endedAt = endedAt;
  if (info.startedAt === 0n) info.startedAt = endedAt;
  else info.duration = endedAt - info.startedAt;
}

function cannotStop(status: EgressStatus): TwirpError {
  return new TwirpError("failed_precondition", `egress with status ${statusName(status)} cannot be stopped`);
}

/** EgressInfo.request of a Start: the request with its storage credentials redacted. */
function redactedSource(source: StartSource): EgressInfo["request"] {
  switch (source.case) {
    case "roomComposite":
      return { case: "roomComposite", value: redactedRequest(source.value) };
    case "participant":
      return { case: "participant", value: redactedRequest(source.value) };
    case "trackComposite":
      return { case: "trackComposite", value: redactedRequest(source.value) };
    case "track":
      return { case: "track", value: redactedTrackRequest(source.value) };
    case "web":
      return { case: "web", value: redactedRequest(source.value) };
  }
}

/** egress' isHttp: the URL parses and is http or https. */
function isHttpUrl(value: string): boolean {
  const protocol = URL.canParse(value) ? new URL(value).protocol : "";
  return protocol === "http:" || protocol === "https:";
}

/**
 * The template page egress' Chrome opens: its own, or the request's customBaseUrl, which must be
 * an http(s) URL (livekit/egress pkg/config/pipeline.go, "template base url").
 */
function checkTemplateUrl(customBaseUrl: string): void {
  if (customBaseUrl !== "" && !isHttpUrl(customBaseUrl)) throw invalidInput("template base url");
}
