import { setTimeout as sleep } from "node:timers/promises";
import { currentLoad } from "./machine.ts";

export interface QuietCheck {
  /** 1-minute load average when measuring began. */
  load: number;
  quiet: boolean;
  waitedMs: number;
}

/**
 * Waits until the 1-minute load average is below `threshold` (other work on the machine would
 * be measured too), at most `maxWaitMs`. It reports rather than refuses: a run on a busy
 * machine is still a run, and its load is written next to its numbers.
 */
export async function waitForQuietMachine(options: {
  threshold: number;
  maxWaitMs: number;
  log: (message: string) => void;
}): Promise<QuietCheck> {
  const started = Date.now();
  let [load] = currentLoad();
  if (load >= options.threshold) {
    options.log(
      `1-minute load is ${load.toFixed(2)}: waiting up to ${Math.round(options.maxWaitMs / 1000)} s for it to fall below ${options.threshold}`,
    );
  }
  while (load >= options.threshold && Date.now() - started < options.maxWaitMs) {
    await sleep(5000);
    [load] = currentLoad();
  }
  const quiet = load < options.threshold;
  if (!quiet) options.log(`the machine is still busy (load ${load.toFixed(2)}): measuring anyway`);
  return { load, quiet, waitedMs: Date.now() - started };
}
