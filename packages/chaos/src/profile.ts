import { newSeed } from "./random.ts";

/** [min, max] in milliseconds, drawn uniformly. */
export type Range = readonly [number, number];

export interface RecorderKillSettings {
  recordings: number;
  /** Recordings in flight at once. */
  concurrency: number;
  kills: number;
  /** Pause between two kills. */
  killGapMs: Range;
  /** Chance that a kill takes two recorders down at once. */
  doubleKillChance: number;
  /** How long a recording stays active before it is stopped. */
  holdMs: Range;
  /** Egress answers Start this late, so that kills land while a Start is in flight. */
  startLatencyMs: number;
}

export interface RedisRestartSettings {
  recordings: number;
  /** Recordings created during and around the outages (with Idempotency-Key retries). */
  createsDuringOutage: number;
  outages: number;
  /** Redis is frozen (SIGSTOP) this long before it is killed and restarted. */
  outageMs: number;
}

export interface S3RestartSettings {
  recordings: number;
  concurrency: number;
  restarts: number;
  dropEvents: number;
  holdMs: Range;
}

export interface SmtpOutageSettings {
  recordings: number;
  /** The SMTP catcher answers 451 to every message this long. */
  outageMs: number;
}

export interface EgressCapacitySettings {
  recordings: number;
  capacity: number;
  crashes: number;
  holdMs: Range;
}

export interface LateRoomsSettings {
  /** Rooms opened only once their recording has been seen waiting for them. */
  lateRooms: number;
  /** Rooms whose speaker shares a track only once the egress has been seen waiting for it. */
  latePublishers: number;
  /** How long after that wait was seen the room opens, or the first track comes. */
  lateByMs: Range;
  /** Rooms that never open: their recordings ask to wait `roomWaitSeconds`, then fail. */
  neverOpened: number;
  roomWaitSeconds: number;
  /** Rooms where somebody sits and nobody ever shares anything. */
  silentRooms: number;
  holdMs: Range;
}

export interface RoomsCloseSettings {
  /** Rooms closed while their recording records: it ends normally, saved and emailed. */
  whileRecording: number;
  /** Rooms closed while their egress waits for someone to publish: the recording is cancelled. */
  whileWaiting: number;
  holdMs: Range;
}

export interface SlowRefusalSettings {
  recordings: number;
  capacity: number;
  /** How late a full fleet's 503 comes (livekit-server: ~18–27 s, after psrpc's retries). */
  refusalDelayMs: number;
  holdMs: Range;
}

export interface LiveKitAmnesiaSettings {
  /** Recordings whose egress waits for a publisher when LiveKit loses its records. */
  waiting: number;
  /** Recordings recording when LiveKit loses its records. */
  recording: number;
  holdMs: Range;
}

export interface ApiFuzzSettings {
  requests: number;
  concurrency: number;
  /** Hostile TENANTS_FILE contents loaded as the API and the mailer load them. */
  tenantFiles: number;
}

export interface Profile {
  name: "ci" | "long";
  seed: number;
  /** Settings every app of the fleet runs with: short timings so that healing takes seconds. */
  fleetEnv: Record<string, string>;
  recorderReplicas: number;
  recorderKills: RecorderKillSettings;
  redisRestart: RedisRestartSettings;
  s3Restart: S3RestartSettings;
  smtpOutage: SmtpOutageSettings;
  egressCapacity: EgressCapacitySettings;
  lateRooms: LateRoomsSettings;
  roomsClose: RoomsCloseSettings;
  slowRefusal: SlowRefusalSettings;
  livekitAmnesia: LiveKitAmnesiaSettings;
  apiFuzz: ApiFuzzSettings;
  /** How long a recording may take from its stop to a final state before it counts as stuck. */
  settleMs: number;
  /** How long the queues may take to drain after a scenario before jobs count as stuck. */
  drainMs: number;
}

/**
 * The apps' healing timings, shortened from minutes to seconds (each is a documented setting,
 * see packages/config/src/schema.ts). The stop timeout stays well above the slowest upload seen
 * under load, so that only a dead egress instance ends as `lost`.
 */
export const FLEET_ENV: Record<string, string> = {
  RECORDER_RECONCILE_INTERVAL_MS: "2000",
  RECORDER_STOP_TIMEOUT_MS: "8000",
  RECORDER_FILE_CHECK_AFTER_MS: "3000",
  RECORDER_LOCK_DURATION_MS: "4000",
  RECORDER_QUEUED_TIMEOUT_MS: "5000",
  LIVEKIT_REQUEST_TIMEOUT_MS: "4000",
  LISTENER_RESYNC_INTERVAL_MS: "5000",
  RECORDER_EGRESS_START_TIMEOUT_MS: "10000",
  // The fuzzer speaks as several clients through X-Forwarded-For (see FUZZ_CLIENTS).
  API_TRUST_PROXY: "loopback",
};

/** Short enough for `npm test` on two cores, still exercising every fault. */
export function ciProfile(seed: number = newSeed()): Profile {
  return {
    name: "ci",
    seed,
    fleetEnv: FLEET_ENV,
    recorderReplicas: 3,
    recorderKills: {
      recordings: 40,
      concurrency: 20,
      kills: 4,
      killGapMs: [1500, 4000],
      doubleKillChance: 0.25,
      holdMs: [300, 1500],
      startLatencyMs: 800,
    },
    redisRestart: { recordings: 10, createsDuringOutage: 6, outages: 1, outageMs: 4000 },
    s3Restart: { recordings: 12, concurrency: 12, restarts: 1, dropEvents: 0.3, holdMs: [300, 4000] },
    smtpOutage: { recordings: 8, outageMs: 9000 },
    egressCapacity: { recordings: 12, capacity: 2, crashes: 1, holdMs: [200, 600] },
    lateRooms: {
      lateRooms: 4,
      latePublishers: 4,
      lateByMs: [500, 2500],
      neverOpened: 2,
      roomWaitSeconds: 3,
      silentRooms: 2,
      holdMs: [300, 1000],
    },
    roomsClose: { whileRecording: 4, whileWaiting: 3, holdMs: [300, 1500] },
    slowRefusal: { recordings: 6, capacity: 3, refusalDelayMs: 20_000, holdMs: [300, 800] },
    livekitAmnesia: { waiting: 3, recording: 6, holdMs: [500, 1500] },
    apiFuzz: { requests: 800, concurrency: 4, tenantFiles: 200 },
    settleMs: 120_000,
    drainMs: 60_000,
  };
}

/** The full-size run at this many minutes; `--minutes` scales the counts from it. */
export const LONG_NOMINAL_MINUTES = 10;

/**
 * The long profile: the sizes of issue 9 (300 recordings under recorder kills, a 30 s SMTP
 * outage, 50 recordings through an egress fleet of 2, 2,000 hostile requests) at
 * LONG_NOMINAL_MINUTES; `minutes` scales the counts (never below the CI profile's), while
 * outage lengths stay as they are.
 */
export function longProfile(minutes: number = LONG_NOMINAL_MINUTES, seed: number = newSeed()): Profile {
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`minutes must be positive, got ${minutes}`);
  const ci = ciProfile(seed);
  const scale = minutes / LONG_NOMINAL_MINUTES;
  const scaled = (full: number, floor: number) => Math.max(floor, Math.round(full * scale));
  return {
    name: "long",
    seed,
    // Nobody publishing for a minute, rather than seconds, before the recording is given up.
    fleetEnv: { ...FLEET_ENV, RECORDER_EGRESS_START_TIMEOUT_MS: "60000" },
    recorderReplicas: 3,
    recorderKills: {
      ...ci.recorderKills,
      recordings: scaled(300, ci.recorderKills.recordings),
      concurrency: 30,
      kills: scaled(40, ci.recorderKills.kills),
      killGapMs: [2000, 6000],
    },
    redisRestart: {
      recordings: scaled(40, ci.redisRestart.recordings),
      createsDuringOutage: scaled(20, ci.redisRestart.createsDuringOutage),
      outages: scaled(3, ci.redisRestart.outages),
      outageMs: 15_000,
    },
    s3Restart: {
      ...ci.s3Restart,
      recordings: scaled(60, ci.s3Restart.recordings),
      concurrency: 20,
      restarts: scaled(4, ci.s3Restart.restarts),
    },
    smtpOutage: { recordings: scaled(30, ci.smtpOutage.recordings), outageMs: 30_000 },
    egressCapacity: { ...ci.egressCapacity, recordings: scaled(50, ci.egressCapacity.recordings) },
    lateRooms: {
      ...ci.lateRooms,
      lateRooms: scaled(20, ci.lateRooms.lateRooms),
      latePublishers: scaled(20, ci.lateRooms.latePublishers),
      lateByMs: [2000, 45_000],
      neverOpened: scaled(5, ci.lateRooms.neverOpened),
      roomWaitSeconds: 20,
      silentRooms: scaled(5, ci.lateRooms.silentRooms),
    },
    roomsClose: {
      ...ci.roomsClose,
      whileRecording: scaled(20, ci.roomsClose.whileRecording),
      whileWaiting: scaled(10, ci.roomsClose.whileWaiting),
    },
    slowRefusal: { ...ci.slowRefusal, recordings: scaled(20, ci.slowRefusal.recordings) },
    livekitAmnesia: {
      ...ci.livekitAmnesia,
      waiting: scaled(10, ci.livekitAmnesia.waiting),
      recording: scaled(30, ci.livekitAmnesia.recording),
    },
    apiFuzz: { requests: scaled(2000, 2000), concurrency: 6, tenantFiles: 1000 },
    settleMs: 240_000,
    drainMs: 120_000,
  };
}
