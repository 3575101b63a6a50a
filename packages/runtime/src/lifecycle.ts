import type { Logger } from "./logger.ts";
import { withTimeout } from "./timeout.ts";

type Closer = () => Promise<unknown> | unknown;

/**
 * Tracks what an app opened and closes it in reverse order on SIGTERM/SIGINT, so that e.g. the
 * HTTP server stops accepting before the Redis connection it uses is closed.
 */
export class Lifecycle {
  private readonly closers: { name: string; close: Closer }[] = [];
  private stopping: Promise<void> | undefined;

  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  /** Registers something to close at shutdown; closers run last-registered first. */
  add(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Closes everything once; a second call waits for the first. */
  shutdown(reason: string, perStepTimeoutMs = 30_000): Promise<void> {
    this.stopping ??= this.closeAll(reason, perStepTimeoutMs);
    return this.stopping;
  }

  private async closeAll(reason: string, perStepTimeoutMs: number): Promise<void> {
    this.logger.info({ reason }, "shutting down");
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await withTimeout(Promise.resolve().then(close), perStepTimeoutMs, `closing ${name}`);
        this.logger.debug({ step: name }, "closed");
      } catch (error) {
        this.logger.warn({ step: name, err: error }, "close failed");
      }
    }
    this.logger.info("stopped");
  }

  /**
   * Exits 0 after a graceful shutdown on SIGTERM or SIGINT; exits 1 if it takes longer than
   * `deadlineMs` or a second signal arrives.
   */
  handleSignals(deadlineMs: number): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.isStopping) {
        this.logger.warn({ signal }, "second signal: exiting now");
        process.exit(1);
      }
      const deadline = setTimeout(() => {
        this.logger.error({ deadlineMs }, "shutdown took too long: exiting");
        process.exit(1);
      }, deadlineMs);
      deadline.unref();
      void this.shutdown(signal).then(() => flushAndExit(this.logger, 0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }
}

/** Flushes the async log destination, then exits. */
export function flushAndExit(logger: Logger, code: number): void {
  logger.flush(() => process.exit(code));
}
