import type { Recording } from "@recfleet/recordings";
import { type BackoffPolicy, backoffDelay } from "@recfleet/runtime";

export interface RetryPolicy {
  /** MAILER_RETRY_WINDOW_MS: how long transient failures are retried, from the first one. */
  windowMs: number;
  backoff: BackoffPolicy;
}

/** 5 s, 10 s, 20 s … capped at 30 min, ±50 %: about a dozen tries in the default 4 h window. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 5000, maxMs: 30 * 60_000, jitter: 0.5 };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; waitedMs: number };

/**
 * Whether a transient failure is retried, from the timeline notes this job wrote for earlier
 * ones (those since the job was queued): their count drives the backoff and the first one
 * starts the window. Delaying a job this way spends no BullMQ attempt.
 */
export function decideRetry(
  recording: Recording,
  notePrefix: string,
  jobQueuedAt: number,
  now: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const notes = recording.timeline.filter(
    (entry) => entry.reason.startsWith(notePrefix) && Date.parse(entry.at) >= jobQueuedAt,
  );
  const firstAt = notes.length > 0 ? Date.parse(notes[0]?.at ?? "") : now;
  const waitedMs = now - firstAt;
  if (waitedMs >= policy.windowMs) return { retry: false, waitedMs };
  return { retry: true, delayMs: backoffDelay(notes.length + 1, policy.backoff, random) };
}
