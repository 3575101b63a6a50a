import { isFinal, type Recording, type RecordingKind } from "@recfleet/recordings";
import type { ApiClient } from "./api-client.ts";
import type { Random } from "./random.ts";
import type { RecordingWatch } from "./watch.ts";

export interface RecordingSpec {
  room: string;
  kind: RecordingKind;
  profile: string;
  email: string;
  /** How long the recording waits for its room to open (the API's roomWaitSeconds). */
  roomWaitSeconds?: number;
  /** Also HLS and thumbnails beside the file: many objects, one recording. */
  hls?: boolean;
}

/** HLS of 1 s segments and a thumbnail every 2 s beside the file (evidence follows the file). */
const HLS_OUTPUTS = [
  { type: "file" },
  { type: "hls", segmentSeconds: 1, livePlaylist: true },
  { type: "images", intervalSeconds: 2, width: 160, height: 90 },
];

/** What happened to one recording driven through the API. */
export interface LifecycleOutcome {
  spec: RecordingSpec;
  id?: string;
  /** Answers to the create call, in order (503s retried with the same Idempotency-Key). */
  createStatuses: number[];
  stopStatuses: number[];
  final?: Recording;
  /** Why the driver gave up on it (a deadline passed, an answer it did not expect). */
  error?: string;
  createdAt: number;
  activeAt?: number;
  stopSentAt?: number;
  finalAt?: number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

const PROFILES = ["minimum-cpu", "low-cpu", "balanced", "audio-heavy"];

/**
 * `count` recordings of rooms `<prefix>-<i>`: mostly video, every fourth audio, every fourth a
 * video with HLS and thumbnails too, mixed profiles.
 */
export function specsFor(prefix: string, count: number, start = 0): RecordingSpec[] {
  return Array.from({ length: count }, (_, n) => {
    const i = start + n;
    const room = `${prefix}-${i}`;
    return {
      room,
      kind: i % 4 === 3 ? "audio" : "video",
      profile: PROFILES[i % PROFILES.length] ?? "low-cpu",
      email: `${room}@example.com`,
      ...(i % 4 === 1 ? { hls: true } : {}),
    };
  });
}

/** Waits what Retry-After says (at most `capMs`), as a well-behaved client does. */
function retryAfterMs(headers: Headers, capMs: number): number {
  const seconds = Number(headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, capMs) : 1000;
}

/**
 * POST /v1/recordings with an Idempotency-Key, retried on 503 and on network errors with the
 * same key until `deadlineMs`: whatever happened to an earlier attempt, the room ends up with
 * exactly one recording.
 */
export async function createRecording(
  api: ApiClient,
  spec: RecordingSpec,
  deadlineMs: number,
  statuses: number[] = [],
): Promise<{ id: string; statuses: number[] }> {
  const deadline = Date.now() + deadlineMs;
  const body = {
    room: spec.room,
    kind: spec.kind,
    profile: spec.profile,
    notify: { email: spec.email },
    ...(spec.roomWaitSeconds === undefined ? {} : { roomWaitSeconds: spec.roomWaitSeconds }),
    ...(spec.hls ? { outputs: HLS_OUTPUTS } : {}),
  };
  for (;;) {
    let wait = 500;
    try {
      const answer = await api.request<{ id: string }>("POST", "/v1/recordings", {
        body,
        headers: { "idempotency-key": `chaos-${spec.room}` },
      });
      statuses.push(answer.status);
      if (answer.status === 202 && answer.body?.id) return { id: answer.body.id, statuses };
      if (answer.status !== 503) {
        throw new Error(`create ${spec.room} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      }
      wait = retryAfterMs(answer.headers, 5000);
    } catch (error) {
      if ((error as Error).message.startsWith(`create ${spec.room} answered`)) throw error;
      statuses.push(0);
    }
    if (Date.now() + wait > deadline) {
      throw new Error(
        `create ${spec.room} not accepted within ${deadlineMs} ms (answers: ${statuses.join(",")})`,
      );
    }
    await sleep(wait);
  }
}

/**
 * POST /v1/recordings/{id}/stop, retried on 503 and network errors. A 409 after an earlier
 * attempt got through (stop already requested, or the recording already ended) is success.
 */
export async function stopRecording(
  api: ApiClient,
  id: string,
  deadlineMs: number,
  statuses: number[] = [],
): Promise<number[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    let wait = 500;
    try {
      const answer = await api.request("POST", `/v1/recordings/${id}/stop`);
      statuses.push(answer.status);
      if (answer.status === 202 || answer.status === 409) return statuses;
      if (answer.status !== 503) throw new Error(`stop ${id} answered ${answer.status}: ${answer.text}`);
      wait = retryAfterMs(answer.headers, 5000);
    } catch (error) {
      if ((error as Error).message.startsWith(`stop ${id} answered`)) throw error;
      statuses.push(0);
    }
    if (Date.now() + wait > deadline) {
      throw new Error(`stop ${id} not accepted within ${deadlineMs} ms (answers: ${statuses.join(",")})`);
    }
    await sleep(wait);
  }
}

export interface LifecycleOptions {
  api: ApiClient;
  watch: RecordingWatch;
  random: Random;
  /** How long a recording stays active before its stop. */
  holdMs: readonly [number, number];
  /** How long it may take to become active (a full egress fleet makes this long). */
  activeTimeoutMs: number;
  /** How long it may take from the stop to a final state. */
  settleMs: number;
  /**
   * Awaited once the recording is created, before it is waited for: what the people in its room
   * do meanwhile (open the room late, share a track late, leave).
   */
  onCreated?: (id: string) => Promise<void>;
  /** Ends the recording after its hold instead of the API stop (e.g. its room closes). */
  endRecording?: (id: string) => Promise<void>;
  /** Called once the recording is active, before the hold (e.g. to line up a fault). */
  onActive?: (id: string) => void;
  /** Called once the stop was accepted: egress is finishing and uploading the file. */
  onStopped?: (id: string) => void;
}

/** create → active → hold → stop → final state, through the public API, never throwing. */
export async function runLifecycle(
  spec: RecordingSpec,
  options: LifecycleOptions,
): Promise<LifecycleOutcome> {
  const outcome: LifecycleOutcome = { spec, createStatuses: [], stopStatuses: [], createdAt: Date.now() };
  const { api, watch } = options;
  try {
    const { id } = await createRecording(api, spec, options.settleMs, outcome.createStatuses);
    outcome.id = id;
    await options.onCreated?.(id);
    const started = await watch.waitFor(
      id,
      (recording) => recording.status === "active" || isFinal(recording.status),
      options.activeTimeoutMs,
      "active",
    );
    if (started.status === "active") {
      outcome.activeAt = Date.now();
      options.onActive?.(id);
      await sleep(options.random.int(options.holdMs[0], options.holdMs[1]));
      outcome.stopSentAt = Date.now();
      if (options.endRecording) await options.endRecording(id);
      else await stopRecording(api, id, options.settleMs, outcome.stopStatuses);
      options.onStopped?.(id);
    }
    outcome.final = await watch.waitFor(
      id,
      (recording) => isFinal(recording.status),
      options.settleMs,
      "final",
    );
    outcome.finalAt = Date.now();
  } catch (error) {
    outcome.error = (error as Error).message;
  }
  return outcome;
}

/**
 * Creates each recording and waits until it records (or has already ended), 10 at once; never
 * throws. With `until: "egress"`, waits only until its egress exists (it may wait to record).
 */
export async function startAll(
  specs: readonly RecordingSpec[],
  api: ApiClient,
  watch: RecordingWatch,
  settleMs: number,
  until: "active" | "egress" = "active",
): Promise<LifecycleOutcome[]> {
  const outcomes: LifecycleOutcome[] = specs.map((spec) => ({
    spec,
    createStatuses: [],
    stopStatuses: [],
    createdAt: Date.now(),
  }));
  const reached =
    until === "active"
      ? (r: Recording) => r.status === "active" || isFinal(r.status)
      : (r: Recording) => r.egressId !== null || isFinal(r.status);
  await runPool(outcomes, 10, async (outcome) => {
    try {
      outcome.id = (await createRecording(api, outcome.spec, settleMs, outcome.createStatuses)).id;
      const recording = await watch.waitFor(outcome.id, reached, settleMs, until);
      if (recording.status === "active") outcome.activeAt = Date.now();
    } catch (error) {
      outcome.error = (error as Error).message;
    }
  });
  return outcomes;
}

/** Waits for the recording's final state and notes it on the outcome; never throws. */
export async function settle(
  outcome: LifecycleOutcome,
  watch: RecordingWatch,
  settleMs: number,
): Promise<void> {
  if (!outcome.id || outcome.error) return;
  try {
    outcome.final = await watch.waitFor(outcome.id, (r) => isFinal(r.status), settleMs, "final");
    outcome.finalAt = Date.now();
  } catch (error) {
    outcome.error = (error as Error).message;
  }
}

/** Runs `work` over `items` with at most `concurrency` at once, keeping the order of results. */
export async function runPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
  return results;
}
