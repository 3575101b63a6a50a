export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0 = exact exponential delays, 1 = anywhere from 0 to the exponential delay. */
  jitter: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential, capped, with jitter so that many
 * clients that failed together do not come back together.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(exponential * (1 - jitter) + exponential * jitter * random());
}
