import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createLogger, type Logger } from "@recfleet/runtime";
import { closeServer, listen } from "../common/http.ts";
import { RtmpIngest } from "../rtmp/index.ts";
import { ADMIN_PREFIX, type EgressAdminApi, handleAdmin } from "./admin.ts";
import {
  EgressAdminError,
  EgressFleet,
  type EgressSnapshot,
  type FailOptions,
  WIRE_JSON,
} from "./egress-fleet.ts";
import { DEFAULT_FAULTS, type EgressFaults, type FaultPatch, parseFaultPatch } from "./faults.ts";
import { ffmpegRenderer } from "./media.ts";
import { RequestLog } from "./request-log.ts";
import { RoomRegistry } from "./rooms.ts";
import type { DefaultStorage } from "./storage.ts";
import { writePlainError } from "./twirp.ts";
import { handleTwirp } from "./twirp-handler.ts";
import { WebhookNotifier, type WebhookSettings } from "./webhooks.ts";

export interface LiveKitEmulatorOptions extends FaultPatch {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The one API key the server knows, and its secret (LiveKit's dev defaults: devkey / secret). */
  apiKey?: string;
  apiSecret?: string;
  /** Where webhooks go; none are sent without it. */
  webhookUrl?: string | null;
  webhookTimeoutMs?: number;
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
  webhookMaxAgeMs?: number;
  /** Largest file an egress writes, whatever its bitrate and length (default 256 KiB); placeholder media only. */
  payloadCapBytes?: number;
  /**
   * What files and segments hold: placeholder bytes of a plausible size (the default), or real
   * media rendered by ffmpeg at the encoding egress was asked for (needs `ffmpeg` on the PATH).
   */
  media?: "placeholder" | "ffmpeg";
  /** With ffmpeg media, the longest a file is rendered (default 10 min); longer egresses are cut. */
  mediaMaxDurationMs?: number;
  /** Each upload's timeout (default 30 s). */
  uploadTimeoutMs?: number;
  /** Pause before the first retry of a failed upload, doubled each time up to 5 s (default 100 ms, the AWS SDK's). */
  uploadRetryDelayMs?: number;
  /** Egress' own S3 settings, for requests without an `s3` block. */
  defaultStorage?: DefaultStorage | null;
  /** Egress' `storage.prefix`: every file it uploads lands under it, request s3 blocks included (default none). */
  storagePrefix?: string;
  /** Egress' `backup:` storage: where a file goes when its upload failed every retry (default none). */
  backupStorage?: (DefaultStorage & { prefix?: string }) | null;
  /** A room nobody joined closes this long after it was made, unless CreateRoom says otherwise (LiveKit: 5 min). */
  emptyTimeoutMs?: number;
  /** A room closes this long after its last participant left, unless CreateRoom says otherwise (LiveKit: 20 s). */
  departureTimeoutMs?: number;
  /** Ended egresses are forgotten this long after they ended (LiveKit: 24 h). */
  endedRetentionMs?: number;
  /** A participant or track composite egress waits this long for its participant or tracks (egress: 30 s). */
  sourceWaitMs?: number;
  /** A web source's page must load within this (egress' chromeTimeout: 30 s). */
  pageLoadTimeoutMs?: number;
  /** A stream that broke after media flowed is given up after reconnecting this long (egress: 30 s). */
  streamGiveUpMs?: number;
  /** Pause between a broken stream's reconnections (default 1 s). */
  streamRetryDelayMs?: number;
  /** Timeout of a stream's connection and RTMP handshake (default 5 s). */
  streamConnectTimeoutMs?: number;
  /**
   * Also run an RTMP ingest (a stand-in for YouTube Live or Twitch) on this port, 0 for a free
   * one; none when absent. It takes every key, or only `rtmpIngestKeys`.
   */
  rtmpIngestPort?: number;
  rtmpIngestKeys?: readonly string[];
  /**
   * Sandbox only: a Start for a room that does not exist opens it, with one participant
   * publishing a camera and a microphone, instead of the real 404. Off by default.
   */
  autoRoom?: boolean;
  /** With `autoRoom`: the room opens this long after the first Start asked for it (default 0: at once). */
  autoRoomDelayMs?: number;
  logger?: Logger;
  /** Level of the emulator's own logger when none is given (default "warn"). */
  logLevel?: string;
}

export interface LiveKitEmulator extends EgressAdminApi {
  /** Base URL for EgressClient (http://host:port). */
  readonly url: string;
  /** The RTMP ingest, when one runs. */
  readonly rtmpIngest: RtmpIngest | null;
  readonly port: number;
  readonly apiKey: string;
  readonly apiSecret: string;
  setFaults(patch: FaultPatch): EgressFaults;
  /** Resolves when no upload is in flight and every queued webhook has been sent or given up. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const DEV_API_KEY = "devkey";
export const DEV_API_SECRET = "secret";
export const DEFAULT_PAYLOAD_CAP_BYTES = 256 * 1024;

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min)
    throw new RangeError(`${name} must be a number ≥ ${min}, got ${result}`);
  return result;
}

/** A storage prefix as egress' YAML takes it: any path; empty for none. */
function cleanPrefix(name: string, prefix: string | undefined): string {
  const value = prefix ?? "";
  if (value.startsWith("/") || value.split("/").some((part) => part === "..")) {
    throw new RangeError(`${name} must be a relative path without '..', got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, "");
}

function checkWebhookUrl(url: string | null): string | null {
  if (url === null || url === "") return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`webhookUrl is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RangeError(`webhookUrl must be http(s), got ${url}`);
  }
  return url;
}

/**
 * Starts the LiveKit emulator: rooms and participants (RoomService, driven by the admin
 * endpoint), the Egress API with its uploads, webhooks for both, and the admin endpoint.
 */
export async function startLiveKitEmulator(options: LiveKitEmulatorOptions = {}): Promise<LiveKitEmulator> {
  const host = options.host ?? "127.0.0.1";
  const apiKey = options.apiKey ?? DEV_API_KEY;
  const apiSecret = options.apiSecret ?? DEV_API_SECRET;
  if (apiKey === "" || apiSecret === "") throw new RangeError("apiKey and apiSecret must not be empty");
  const logger = options.logger ?? createLogger("livekit-emulator", { level: options.logLevel ?? "warn" });

  const { failNext, crashNext, ...initialFaults } = parseFaultPatch(
    Object.fromEntries(Object.entries(faultFields(options)).filter(([, value]) => value !== undefined)),
  );
  const startupFaults: EgressFaults = { ...DEFAULT_FAULTS, ...initialFaults };
  let faults: EgressFaults = { ...startupFaults };

  const webhookSettings: WebhookSettings = {
    url: checkWebhookUrl(options.webhookUrl ?? null),
    apiKey,
    apiSecret,
    timeoutMs: positive("webhookTimeoutMs", options.webhookTimeoutMs, 5_000, 1),
    retries: positive("webhookRetries", options.webhookRetries, 3),
    retryDelayMs: positive("webhookRetryDelayMs", options.webhookRetryDelayMs, 250),
    maxAgeMs: positive("webhookMaxAgeMs", options.webhookMaxAgeMs, 30_000, 1),
  };
  const notifier = new WebhookNotifier({
    settings: () => webhookSettings,
    dropFraction: () => faults.dropWebhooks,
    logger,
  });
  const rooms: RoomRegistry = new RoomRegistry({
    emptyTimeoutMs: positive("emptyTimeoutMs", options.emptyTimeoutMs, 5 * 60_000, 1),
    departureTimeoutMs: positive("departureTimeoutMs", options.departureTimeoutMs, 20_000, 1),
    notify: (event, payload) => notifier.notify(event, payload),
    onTrackPublished: (roomName) => fleet.trackPublished(roomName),
    onRoomClosed: (roomName) => fleet.roomClosed(roomName),
    onParticipantLeft: (roomName, identity) => fleet.participantLeft(roomName, identity),
    onTrackUnpublished: (roomName) => fleet.trackGone(roomName),
    logger,
  });
  const fleet: EgressFleet = new EgressFleet({
    faults: () => faults,
    rooms,
    autoRoom: options.autoRoom ?? false,
    autoRoomDelayMs: positive("autoRoomDelayMs", options.autoRoomDelayMs, 0),
    endedRetentionMs: positive("endedRetentionMs", options.endedRetentionMs, 24 * 3_600_000, 1),
    sourceWaitMs: positive("sourceWaitMs", options.sourceWaitMs, 30_000, 1),
    pageLoadTimeoutMs: positive("pageLoadTimeoutMs", options.pageLoadTimeoutMs, 30_000, 1),
    streamGiveUpMs: positive("streamGiveUpMs", options.streamGiveUpMs, 30_000),
    streamRetryDelayMs: positive("streamRetryDelayMs", options.streamRetryDelayMs, 1_000, 1),
    streamConnectTimeoutMs: positive("streamConnectTimeoutMs", options.streamConnectTimeoutMs, 5_000, 1),
    streamMediaIntervalMs: 500,
    payloadCapBytes: positive("payloadCapBytes", options.payloadCapBytes, DEFAULT_PAYLOAD_CAP_BYTES, 1),
    media:
      options.media === "ffmpeg"
        ? ffmpegRenderer({
            timeoutMs: 120_000,
            maxDurationMs: positive("mediaMaxDurationMs", options.mediaMaxDurationMs, 600_000, 1),
          })
        : null,
    uploadTimeoutMs: positive("uploadTimeoutMs", options.uploadTimeoutMs, 30_000, 1),
    uploadRetryDelayMs: positive("uploadRetryDelayMs", options.uploadRetryDelayMs, 100),
    defaultStorage: options.defaultStorage ?? null,
    storagePrefix: cleanPrefix("storagePrefix", options.storagePrefix),
    backupStorage: options.backupStorage
      ? {
          ...options.backupStorage,
          prefix: cleanPrefix("backupStorage.prefix", options.backupStorage.prefix),
        }
      : null,
    notify: (event, payload) => notifier.notify(event, payload),
    logger,
  });
  fleet.armNextFaults({ failNext, crashNext });
  const log = new RequestLog();
  const keys = new Map([[apiKey, apiSecret]]);
  const closing = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        closing.signal.removeEventListener("abort", done);
        resolve();
      }
      closing.signal.addEventListener("abort", done, { once: true });
    });

  const currentFaults = (): EgressFaults => ({ ...faults, ...fleet.pendingNextFaults() });

  const snapshotOf = (egressId: string): EgressSnapshot => {
    const snapshot = fleet.find(egressId);
    if (!snapshot) throw new EgressAdminError(404, `no egress ${egressId}`);
    return snapshot;
  };

  const api: EgressAdminApi = {
    faults: currentFaults,
    setFaults(patch: unknown) {
      const { failNext: fails, crashNext: crashes, ...rest } = parseFaultPatch(patch);
      faults = { ...faults, ...rest };
      fleet.armNextFaults({ failNext: fails, crashNext: crashes });
      logger.info({ faults: currentFaults() }, "faults changed");
      return currentFaults();
    },
    requests: () => log.list(),
    egresses: () => fleet.snapshots(),
    egress: (egressId) => fleet.find(egressId),
    webhooks: () => notifier.deliveries(),
    resendWebhook: (id) => notifier.resend(id),
    forgetEgresses: (all: boolean) => fleet.forget({ all }),
    rooms: () =>
      rooms.list([]).map((room) => ({
        room: room.toJson(WIRE_JSON) as Record<string, unknown>,
        participants: rooms
          .participants(room.name)
          .map((p) => p.toJson(WIRE_JSON) as Record<string, unknown>),
      })),
    createRoom: (name) => rooms.create({ name }).toJson(WIRE_JSON) as Record<string, unknown>,
    closeRoom: (name) => rooms.delete(name),
    join: (room, join) => rooms.join(room, join).toJson(WIRE_JSON) as Record<string, unknown>,
    leave: (room, identity) => rooms.remove(room, identity),
    publish: (room, identity, track) =>
      rooms.publish(room, identity, track).toJson(WIRE_JSON) as Record<string, unknown>,
    unpublish: (room, identity, track) => rooms.unpublish(room, identity, track),
    mute: (room, identity, track, muted) =>
      rooms.mute(room, identity, track, muted).toJson(WIRE_JSON) as Record<string, unknown>,
    failEgress(egressId: string, failOptions?: FailOptions) {
      fleet.fail(egressId, failOptions);
      return snapshotOf(egressId);
    },
    crashEgress(egressId: string) {
      fleet.crash(egressId);
      return snapshotOf(egressId);
    },
    rtmpStreams: () => rtmpIngest?.streams().map(({ key: _key, ...shown }) => shown) ?? null,
    dropRtmpStreams: () => rtmpIngest?.dropAll() ?? 0,
    reset() {
      fleet.reset();
      rooms.reset();
      log.clear();
      notifier.clear();
      faults = { ...startupFaults };
      fleet.armNextFaults({ failNext: failNext ?? 0, crashNext: crashNext ?? 0 });
      logger.info("reset");
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://emulator").pathname;
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return handleAdmin(req, res, api);
    if (path.startsWith("/twirp/")) {
      return handleTwirp(req, res, {
        keys,
        fleet,
        rooms,
        log,
        logger,
        startLatencyMs: () => faults.startLatencyMs,
        sleep,
      });
    }
    // livekit-server answers its health check on / with "OK", and Go's 404 text elsewhere.
    if (path === "/" && (req.method === "GET" || req.method === "HEAD"))
      return writePlainError(res, 200, "OK");
    writePlainError(res, 404, "404 page not found\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, "request failed");
      if (!res.headersSent) writePlainError(res, 500, "internal error");
      else res.destroy();
    });
  });
  const rtmpIngest =
    options.rtmpIngestPort === undefined
      ? null
      : new RtmpIngest({ host, port: options.rtmpIngestPort, keys: options.rtmpIngestKeys ?? [], logger });
  if (rtmpIngest) await rtmpIngest.start();
  const port = await listen(server, options.port ?? 0, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey,
    apiSecret,
    rtmpIngest,
    ...api,
    setFaults: (patch: FaultPatch) => api.setFaults(patch),
    async idle() {
      await fleet.idle();
      await notifier.idle();
    },
    async close() {
      closing.abort();
      fleet.reset();
      rooms.reset();
      await notifier.close();
      await rtmpIngest?.close();
      await closeServer(server);
    },
  };
}

function faultFields(options: LiveKitEmulatorOptions): FaultPatch {
  return {
    capacity: options.capacity,
    refusalDelayMs: options.refusalDelayMs,
    startLatencyMs: options.startLatencyMs,
    activationDelayMs: options.activationDelayMs,
    maxDurationMs: options.maxDurationMs,
    dropWebhooks: options.dropWebhooks,
    failNext: options.failNext,
    failAfterMs: options.failAfterMs,
    failError: options.failError,
    crashNext: options.crashNext,
  };
}
