/**
 * How much longer than usual the tests may wait: TEST_TIME_SCALE, a number from 1 to 20
 * (default 1). Every deadline in the tests — test and hook timeouts, waits for a line, a
 * status or an email — goes through `scaled`, so a slow or busy machine needs one setting, not
 * an edit. Deadlines only bound waits for an outcome; no test passes or fails by how fast
 * something happened.
 */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TEST_TIME_SCALE;
  if (raw === undefined || raw.trim() === "") return 1;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1 || value > 20) {
    throw new Error(`TEST_TIME_SCALE must be a number from 1 to 20, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A deadline in milliseconds, stretched by TEST_TIME_SCALE. */
export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}

/**
 * Polls `probe` until it returns something other than undefined, and returns that; throws
 * naming `what` when the (scaled) deadline passes first.
 */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  {
    timeoutMs = 15_000,
    intervalMs = 50,
    what = "the condition",
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const limit = scaled(timeoutMs);
  const deadline = Date.now() + limit;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
