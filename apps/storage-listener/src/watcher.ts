import { type BackoffPolicy, backoffDelay, type Logger, withTimeout } from "@recfleet/runtime";
import type { Client as MinioClient } from "minio";
import type { ResyncCheckpoint } from "./checkpoint.ts";
import type { ObjectSeen } from "./file-handler.ts";
import type { ListenerMetrics } from "./metrics.ts";

type NotificationEmitter = ReturnType<MinioClient["listenBucketNotification"]>;

export interface WatcherOptions {
  minio: MinioClient;
  bucket: string;
  /** Recording files live under `<prefix>/`. */
  prefix: string;
  checkpoint: ResyncCheckpoint;
  handle: (object: ObjectSeen, source: "event" | "resync") => Promise<string>;
  /**
   * The key a re-scan lists after (exclusive), or null for the whole prefix: keys carry
   * time-ordered recording ids, so a re-scan needs only those that can still save one.
   */
  scanFrom?: () => Promise<string | null>;
  resyncIntervalMs: number;
  /** A re-scan re-handles objects modified this long before the checkpoint (clock skew, slow uploads). */
  resyncMarginMs: number;
  /** A listener that has not failed this long after its request is taken as established. */
  settleMs?: number;
  /** Upper bound of one re-scan. */
  resyncTimeoutMs?: number;
  backoff?: BackoffPolicy;
  logger: Logger;
  metrics: ListenerMetrics;
}

export interface ResyncResult {
  at: string;
  reason: string;
  scanned: number;
  handled: number;
  /** The key the listing started after; null: the whole prefix. */
  startAfter: string | null;
  durationMs: number;
  error?: string;
}

export interface WatcherStatus {
  connected: boolean;
  lastEventAt: string | null;
  reconnects: number;
  lastResync: ResyncResult | null;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, jitter: 0.5 };

interface NotificationRecord {
  eventName?: unknown;
  s3?: { object?: { key?: unknown; size?: unknown; eTag?: unknown; contentType?: unknown } };
}

/**
 * Keeps a bucket notification listener alive forever and makes sure no file is missed: minio-js
 * stops listening for good on its first error and MinIO drops events while nobody listens, so
 * every failure re-creates the listener with jittered backoff, and every (re)connect, failed
 * event and interval triggers a re-scan of the bucket since the last checkpoint.
 */
export class BucketWatcher {
  private readonly options: WatcherOptions;
  private readonly backoff: BackoffPolicy;
  private current: NotificationEmitter | undefined;
  private attempt = 0;
  private stopped = false;
  private connected = false;
  private lastEventAt: string | null = null;
  private reconnects = 0;
  private lastResync: ResyncResult | null = null;
  private resyncRunning: Promise<void> | undefined;
  private resyncPending: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: WatcherOptions) {
    this.options = options;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  start(): void {
    this.connect();
    const interval = setInterval(() => this.requestResync("interval"), this.options.resyncIntervalMs);
    interval.unref();
    this.timers.add(interval);
  }

  status(): WatcherStatus {
    return {
      connected: this.connected,
      lastEventAt: this.lastEventAt,
      reconnects: this.reconnects,
      lastResync: this.lastResync,
    };
  }

  /** Called when the listen stream crashed outside minio-js' emitter (its JSONL parser throwing). */
  recoverFromStreamCrash(error: Error): void {
    if (this.current) this.fail(this.current, `malformed notification stream: ${error.message}`);
  }

  /** Stops listening, then waits for events and a re-scan in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.detach(this.current);
    this.current = undefined;
    this.setConnected(false);
    await Promise.allSettled([...this.inFlight, this.resyncRunning]);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private setConnected(value: boolean): void {
    this.connected = value;
    this.options.metrics.connected.set(value ? 1 : 0);
  }

  private connect(): void {
    if (this.stopped) return;
    const { minio, bucket, prefix, logger } = this.options;
    let listener: NotificationEmitter;
    try {
      listener = minio.listenBucketNotification(bucket, `${prefix}/`, "", ["s3:ObjectCreated:*"]);
    } catch (error) {
      this.scheduleReconnect(`could not create the listener: ${(error as Error).message}`);
      return;
    }
    this.current = listener;
    listener.on("notification", (record: unknown) => this.onRecord(record));
    listener.on("error", (error: unknown) => this.fail(listener, `listen stream error: ${describe(error)}`));
    this.later(this.options.settleMs ?? 1000, () => {
      if (this.current !== listener) return;
      this.attempt = 0;
      this.setConnected(true);
      logger.info({ bucket, prefix }, "listening for bucket notifications");
      // Events that happened while nobody listened are gone: re-scan now that we listen again.
      this.requestResync(this.reconnects === 0 ? "startup" : "reconnect");
    });
  }

  private detach(listener: NotificationEmitter | undefined): void {
    if (!listener) return;
    listener.removeAllListeners();
    // A late error from a stopped listener must not become an unhandled 'error' event.
    listener.on("error", () => {});
    listener.stop();
  }

  private fail(listener: NotificationEmitter, reason: string): void {
    if (listener !== this.current || this.stopped) return;
    this.detach(listener);
    this.current = undefined;
    this.setConnected(false);
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    this.reconnects += 1;
    const delayMs = backoffDelay(this.attempt, this.backoff);
    this.options.metrics.reconnects.inc({ reason: reason.split(":")[0] ?? reason });
    this.options.logger.warn(
      { reason, delayMs, attempt: this.attempt },
      "bucket listener lost: reconnecting",
    );
    this.later(delayMs, () => this.connect());
  }

  private onRecord(raw: unknown): void {
    const record = (typeof raw === "object" && raw !== null ? raw : {}) as NotificationRecord;
    const object = record.s3?.object;
    if (typeof object?.key !== "string") {
      this.options.logger.warn({ record: raw }, "ignored a malformed notification record");
      return;
    }
    this.lastEventAt = new Date().toISOString();
    this.options.metrics.events.inc({
      event: typeof record.eventName === "string" ? record.eventName : "unknown",
    });
    const seen: ObjectSeen = {
      key: object.key,
      size: typeof object.size === "number" ? object.size : null,
      etag: typeof object.eTag === "string" && object.eTag !== "" ? object.eTag : null,
      contentType:
        typeof object.contentType === "string" && object.contentType !== "" ? object.contentType : null,
    };
    const handling = this.options.handle(seen, "event").catch((error: unknown) => {
      // Not handled (Redis away?): a re-scan will find the object again.
      this.options.logger.warn(
        { key: seen.key, err: { message: describe(error) } },
        "handling an event failed: re-scan scheduled",
      );
      this.requestResync("event handling failed");
    });
    this.inFlight.add(handling);
    void handling.finally(() => this.inFlight.delete(handling));
  }

  /** Runs a re-scan now, or right after the one in progress. */
  requestResync(reason: string): void {
    if (this.stopped) return;
    if (this.resyncRunning) {
      this.resyncPending = reason;
      return;
    }
    this.resyncRunning = this.resync(reason).finally(() => {
      this.resyncRunning = undefined;
      const pending = this.resyncPending;
      this.resyncPending = undefined;
      if (pending) this.requestResync(pending);
    });
  }

  private async resync(reason: string): Promise<void> {
    const { minio, bucket, prefix, checkpoint, resyncMarginMs, logger, metrics } = this.options;
    const started = Date.now();
    let scanned = 0;
    let handled = 0;
    let found = 0;
    let startAfter: string | null = null;
    try {
      await withTimeout(
        (async () => {
          const since = ((await checkpoint.read()) ?? Number.NEGATIVE_INFINITY) - resyncMarginMs;
          startAfter = (await this.options.scanFrom?.()) ?? null;
          for await (const item of minio.listObjectsV2(bucket, `${prefix}/`, true, startAfter ?? "")) {
            const object = item as { name?: string; size?: number; etag?: string; lastModified?: Date };
            if (this.stopped) return;
            if (!object.name) continue;
            scanned += 1;
            if ((object.lastModified?.getTime() ?? started) < since) continue;
            const outcome = await this.options.handle(
              { key: object.name, size: object.size ?? null, etag: object.etag ?? null, contentType: null },
              "resync",
            );
            handled += 1;
            if (outcome === "saved") found += 1;
          }
          if (!this.stopped) await checkpoint.advance(started);
        })(),
        this.options.resyncTimeoutMs ?? 5 * 60_000,
        "bucket re-scan",
      );
      this.lastResync = {
        at: new Date(started).toISOString(),
        reason,
        scanned,
        handled,
        startAfter,
        durationMs: Date.now() - started,
      };
      metrics.resyncs.inc({ outcome: "ok" });
      // Routine: the periodic re-scan says so at info only when it saved a recording.
      if (found > 0 || reason !== "interval")
        logger.info({ ...this.lastResync, found }, "bucket re-scan done");
      else logger.debug({ ...this.lastResync, found }, "bucket re-scan done");
    } catch (error) {
      const message = describe(error);
      this.lastResync = {
        at: new Date(started).toISOString(),
        reason,
        scanned,
        handled,
        startAfter,
        durationMs: Date.now() - started,
        error: message,
      };
      metrics.resyncs.inc({ outcome: "failed" });
      logger.warn(this.lastResync, "bucket re-scan failed: retrying");
      const delayMs = backoffDelay(2, this.backoff);
      this.later(delayMs, () => this.requestResync(`retry after failure (${reason})`));
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return (error as NodeJS.ErrnoException).code
      ? `${error.message} (${(error as NodeJS.ErrnoException).code})`
      : error.message;
  return String(error);
}
