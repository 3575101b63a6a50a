import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { LineFormatter } from "./log-format.ts";

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** Resolves once the process is ready for the ones that depend on it. */
  ready: (process: SupervisedProcess) => Promise<void>;
  /** How long it may take to stop after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /**
   * Lines that are expected and say nothing to act on: kept in the log file, shown on the console
   * as `instead` (once), or not at all.
   */
  quiet?: { match: RegExp; instead?: string }[];
}

export interface SupervisedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the first output line matching, rejects if the process exits first. */
  waitForLine(match: RegExp, timeoutMs: number): Promise<string>;
}

/**
 * Starts processes one after the other (each health-checked before the next), prints their
 * output with a prefix and keeps a log file per process. When one dies unexpectedly, `failed`
 * resolves with its name and the tail of its log; `stopAll` stops them in reverse order.
 */
export class Supervisor {
  private readonly running: { spec: ProcessSpec; process: SupervisedProcess; exited: Promise<void> }[] = [];
  private readonly logsDir: string;
  private readonly print: (line: string) => void;
  private readonly format: LineFormatter;
  private stopping = false;
  /** Processes killed on purpose (restart): their exit is not a failure. */
  private readonly expectedExits = new Set<ChildProcess>();
  private readonly failure: PromiseWithResolvers<{ name: string; code: number | string; tail: string[] }>;

  constructor(options: { logsDir: string; print: (line: string) => void; format: LineFormatter }) {
    this.logsDir = options.logsDir;
    this.print = options.print;
    this.format = options.format;
    this.failure = Promise.withResolvers();
  }

  /** Resolves when a process exits while the fleet should be running. */
  get failed(): Promise<{ name: string; code: number | string; tail: string[] }> {
    return this.failure.promise;
  }

  async start(spec: ProcessSpec): Promise<SupervisedProcess> {
    const logFile = join(this.logsDir, `${spec.name}.log`);
    const log: WriteStream = createWriteStream(logFile, { flags: "a" });
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group: a Ctrl-C in the terminal reaches the supervisor only, which then
      // stops every process once, newest first (stopAll), instead of all of them at once.
      detached: true,
    });
    const lines: string[] = [];
    const waiters = new Set<(line: string) => void>();
    const hinted = new Set<string>();
    const onLine = (line: string) => {
      if (!log.writableEnded) log.write(`${line}\n`);
      if (lines.length > 200) lines.shift();
      lines.push(line);
      const quiet = spec.quiet?.find((rule) => rule.match.test(line));
      if (!quiet) this.print(this.format(spec.name, line));
      else if (quiet.instead && !hinted.has(quiet.instead)) {
        hinted.add(quiet.instead);
        this.print(this.format(spec.name, quiet.instead));
      }
      for (const waiter of [...waiters]) waiter(line);
    };
    for (const stream of [child.stdout, child.stderr])
      if (stream) createInterface({ input: stream }).on("line", onLine);
    const exited = new Promise<void>((resolve) => {
      // 'close', not 'exit': lines can still arrive between the two. The process counts as gone
      // once its output is all read and written to its log, which its tail then shows.
      child.once("close", (code, signal) => {
        log.end(() => {
          resolve();
          if (!this.stopping && !this.expectedExits.has(child))
            this.failure.resolve({
              name: spec.name,
              code: code ?? signal ?? "unknown",
              tail: tailOf(logFile),
            });
        });
      });
    });
    const supervised: SupervisedProcess = {
      name: spec.name,
      child,
      logFile,
      waitForLine: (match, timeoutMs) =>
        new Promise((resolve, reject) => {
          const seen = lines.find((line) => match.test(line));
          if (seen) return resolve(seen);
          const timer = setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`${spec.name}: no line matching ${match} within ${timeoutMs} ms`));
          }, timeoutMs);
          const waiter = (line: string) => {
            if (!match.test(line)) return;
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(line);
          };
          waiters.add(waiter);
          void exited.then(() => {
            if (!waiters.has(waiter)) return;
            clearTimeout(timer);
            waiters.delete(waiter);
            reject(new Error(`${spec.name} exited before it was ready (see ${logFile})`));
          });
        }),
    };
    this.running.push({ spec, process: supervised, exited });
    await spec.ready(supervised);
    return supervised;
  }

  /**
   * Kills one process abruptly (SIGKILL, as a crash would) and starts it again with the same
   * spec, waiting until it is ready. For fault-injection tests.
   */
  async restart(name: string): Promise<SupervisedProcess> {
    const index = this.running.findIndex((entry) => entry.spec.name === name);
    const entry = this.running[index];
    if (!entry) throw new Error(`no process named ${name}`);
    this.expectedExits.add(entry.process.child);
    entry.process.child.kill("SIGKILL");
    await entry.exited;
    this.running.splice(index, 1);
    const restarted = await this.start(entry.spec);
    // Keep the start order: the restarted process stops where the old one stood.
    const moved = this.running.pop();
    if (moved) this.running.splice(index, 0, moved);
    return restarted;
  }

  /** SIGTERM to each process, newest first, waiting for each; SIGKILL after its grace. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const { spec, process, exited } of [...this.running].reverse()) {
      if (process.child.exitCode !== null || process.child.signalCode !== null) continue;
      process.child.kill("SIGTERM");
      const timer = setTimeout(() => process.child.kill("SIGKILL"), spec.stopGraceMs ?? 15_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

function tailOf(file: string, count = 20): string[] {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-count);
  } catch {
    return [];
  }
}
