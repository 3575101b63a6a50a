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

export interface ApiFuzzSettings {
  requests: number;
  concurrency: number;
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
    apiFuzz: { requests: 800, concurrency: 4 },
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
    fleetEnv: FLEET_ENV,
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
    apiFuzz: { requests: scaled(2000, 2000), concurrency: 6 },
    settleMs: 240_000,
    drainMs: 120_000,
  };
}
