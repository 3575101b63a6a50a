import { hostname } from "node:os";
import type { TenantRegistry } from "@recfleet/config";
import type { JobProducer } from "@recfleet/queues";
import { EventStreamReader, type RecordingEvent } from "@recfleet/recordings";
import { type Logger, withTimeout } from "@recfleet/runtime";
import type { Redis } from "ioredis";

export interface DispatcherOptions {
  /** A connection of its own: the read blocks. */
  connection: Redis;
  stream: string;
  producer: JobProducer;
  tenants: TenantRegistry;
  logger: Logger;
  /** An entry another mailer took and did not acknowledge this long is taken over. */
  claimIdleMs?: number;
  blockMs?: number;
}

const GROUP = "callbacks";
const BATCH = 100;

/**
 * Turns the store's event stream into callback jobs: every mailer replica reads it as one
 * consumer group, so each event is queued once; an entry is acknowledged only after its job is
 * queued, and one left by a mailer that died is claimed by another. Events of tenants without a
 * callback (or not subscribed to them) are acknowledged and dropped.
 */
export class CallbackDispatcher {
  private readonly options: DispatcherOptions;
  private readonly reader: EventStreamReader;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.reader = new EventStreamReader(
      options.connection,
      options.stream,
      GROUP,
      `${hostname()}-${process.pid}`,
    );
  }

  /** Starts reading in the background; Redis being away only delays it. */
  start(): void {
    this.running = this.loop();
  }

  /** Stops after the read in flight (at most blockMs); the caller then closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    await withTimeout(
      this.running ?? Promise.resolve(),
      (this.options.blockMs ?? 2000) + 3000,
      "the last read",
    ).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    const claimIdleMs = this.options.claimIdleMs ?? 60_000;
    let lastClaim = 0;
    let failures = 0;
    let groupReady = false;
    while (!this.stopped) {
      try {
        if (!groupReady) {
          await this.reader.ensureGroup();
          groupReady = true;
        }
        if (Date.now() - lastClaim >= claimIdleMs / 2) {
          lastClaim = Date.now();
          await this.dispatch(await this.reader.claimAbandoned(claimIdleMs, BATCH));
        }
        await this.dispatch(await this.reader.readNew(BATCH, this.options.blockMs ?? 2000));
        failures = 0;
      } catch (error) {
        // A Redis that lost its data (restarted without persistence) lost the group too.
        if ((error as Error).message.startsWith("NOGROUP")) groupReady = false;
        failures += 1;
        if (failures === 1 || failures % 30 === 0) {
          logger.warn(
            { err: { message: (error as Error).message }, failures },
            "callback dispatch failed: retrying",
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(200 * failures, 2000)));
      }
    }
  }

  private async dispatch(events: RecordingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { producer, tenants, logger } = this.options;
    for (const event of events) {
      const callback = tenants.get(event.tenant)?.callback;
      if (callback?.events.includes(event.event)) {
        await producer.enqueue("callback", {
          recordingId: event.recordingId,
          event: event.event,
          occurredAt: event.at,
          resend: 0,
        });
        logger.debug({ recordingId: event.recordingId, event: event.event }, "callback queued");
      }
    }
    await this.reader.done(events.map((event) => event.streamId));
  }
}
