import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { scaled } from "./time.ts";

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Every line printed so far on stdout and stderr. */
  readonly lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Sends a signal and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Prints the process' lines as they come, for debugging a test. */
  echo?: boolean;
}

/**
 * Runs a TypeScript entry point of this repository as a real child process, with workspace
 * packages resolved from source — the same way `npm start` runs the fleet locally.
 */
export function spawnTs(entry: string, args: string[] = [], options: SpawnOptions = {}): RunningProcess {
  return spawnProcess(process.execPath, ["--conditions=@recfleet/source", entry, ...args], options);
}

export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): RunningProcess {
  // Its own process group, so that whatever it starts (the sandbox starts a whole fleet) can be
  // killed with it when a test ends early.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  const onLine = (line: string) => {
    lines.push(line);
    if (options.echo) process.stderr.write(`[${args[1] ?? command}] ${line}\n`);
    for (const waiter of [...waiters]) waiter(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", onLine);
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const killOnExit = () => killGroup();
  process.once("exit", killOnExit);
  void exited.then(() => {
    process.off("exit", killOnExit);
    // Whatever the process started and left behind (it was killed, say) goes with it.
    killGroup();
  });

  const waitForLine: RunningProcess["waitForLine"] = (match, unscaledTimeoutMs = 15_000) => {
    const timeoutMs = scaled(unscaledTimeoutMs);
    const test = typeof match === "function" ? match : (line: string) => match.test(line);
    const seen = lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `no line matching ${String(match)} within ${timeoutMs} ms; output:\n${lines.slice(-30).join("\n")}`,
          ),
        );
      }, timeoutMs);
      const waiter = (line: string) => {
        if (!test(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        reject(
          new Error(
            `process exited (${code}) before a line matching ${String(match)}; output:\n${lines.slice(-30).join("\n")}`,
          ),
        );
      });
    });
  };

  const stop: RunningProcess["stop"] = async (signal = "SIGTERM", graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    const timer = setTimeout(killGroup, scaled(graceMs));
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  return { child, lines, waitForLine, exited, stop };
}
