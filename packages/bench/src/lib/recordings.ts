import { setTimeout as sleep } from "node:timers/promises";
import type { TestFleet } from "@recfleet/sandbox/harness";
import { type BenchFleet, unfinishedCount } from "./fleet.ts";

type FleetInfo = TestFleet["info"];

/** Wall-clock time in epoch milliseconds with sub-millisecond resolution (monotonic within a run). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface Posted {
  status: number;
  id: string | null;
  room: string;
  /** Epoch ms when the request was sent and when its answer's status line arrived. */
  sentAt: number;
  answeredAt: number;
}

/** POST /v1/recordings, timed on the client: `answeredAt` is when the 202 arrived. */
export async function postRecording(info: FleetInfo, body: { room: string } & Record<string, unknown>) {
  const sentAt = epochNow();
  const response = await fetch(`${info.apiUrl}/v1/recordings`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const answeredAt = epochNow();
  const answer = (await response.json()) as { id?: unknown };
  return {
    status: response.status,
    id: typeof answer.id === "string" ? answer.id : null,
    room: body.room,
    sentAt,
    answeredAt,
  } satisfies Posted;
}

export async function stopRecording(info: FleetInfo, id: string): Promise<number> {
  const response = await fetch(`${info.apiUrl}/v1/recordings/${id}/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.apiKey}` },
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Runs `run` over the items, at most `limit` at a time, keeping their order in the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Open-loop pacing: call i is started at start + i / rate whatever the earlier ones are doing,
 * as independent clients would. Returns the results and how late the sends were (the load
 * generator's own jitter, to be read next to the latencies it produced).
 */
export async function paced<R>(count: number, ratePerSecond: number, run: (index: number) => Promise<R>) {
  const interval = 1000 / ratePerSecond;
  const start = performance.now();
  const pending: Promise<R>[] = [];
  const lateness: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = start + index * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    lateness.push(performance.now() - due);
    pending.push(run(index));
  }
  const results = await Promise.all(pending);
  return { results, lateness, elapsedMs: performance.now() - start };
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Ends a batch of recordings the way users do, so a benchmark leaves nothing running: waits
 * until none is still queued or starting, stops them all through the API, then waits until
 * every recording of the fleet is final (notified, failed or cancelled).
 */
export async function finishRecordings(
  bench: BenchFleet,
  ids: readonly string[],
  options: { timeoutMs: number; concurrency?: number },
): Promise<{ stopAnswers: Record<string, number>; settledMs: number }> {
  await waitUntil(
    "the recordings to have started",
    async () => {
      const counts = await bench.store.countByStatus();
      return counts.queued + counts.starting === 0;
    },
    options.timeoutMs,
  );
  const answers = await mapLimit(ids, options.concurrency ?? 20, (id) => stopRecording(bench.fleet.info, id));
  const stopAnswers: Record<string, number> = {};
  for (const status of answers) stopAnswers[status] = (stopAnswers[status] ?? 0) + 1;
  const settledMs = await waitUntil(
    "every recording to be final",
    async () => (await unfinishedCount(bench.store)) === 0,
    options.timeoutMs,
  );
  return { stopAnswers, settledMs };
}

export interface CaughtMail {
  id: string;
  messageId: string | null;
  receivedAt: string;
}

/** The SMTP catcher's index (its JSON API), with the time each message was accepted. */
export async function caughtMails(info: FleetInfo): Promise<CaughtMail[]> {
  const response = await fetch(`${info.mailUrl}api/messages`, { signal: AbortSignal.timeout(10_000) });
  return ((await response.json()) as { messages: CaughtMail[] }).messages;
}
