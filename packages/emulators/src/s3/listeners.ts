// Connected ListenBucketNotification streams: fan-out, keep-alives, and the faults tests inject.
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { Logger } from "@recfleet/runtime";
import { EvenDrops } from "../common/faults.ts";
import { EMPTY_RECORDS_LINE, eventLine, matchPattern, type S3EventNotification } from "./events.ts";

export interface ListenFilter {
  /** "" listens to every bucket (`GET /?events=…`). */
  bucket: string;
  /** The event names as requested (may hold wildcards). */
  events: readonly string[];
  /** Every concrete event name the request covers. */
  names: ReadonlySet<string>;
  prefix: string;
  suffix: string;
  pattern: string;
}

export interface ListenerInfo {
  id: number;
  bucket: string;
  events: readonly string[];
  prefix: string;
  suffix: string;
  /** Seconds between `{"Records":null}` lines; undefined when the client sent no `ping`. */
  ping: number | undefined;
  connectedAt: string;
  delivered: number;
  dropped: number;
}

interface Listener {
  id: number;
  filter: ListenFilter;
  ping: number | undefined;
  connectedAt: string;
  delivered: number;
  dropped: number;
  /** Which of this listener's events the drop fault loses. */
  drops: EvenDrops;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

export type CutMode = "reset" | "end";

export interface ListenerHubOptions {
  /** Interval of the single-space keep-alive when the client sent no `ping` (MinIO: 500 ms). */
  keepAliveMs: number;
  /** A listener with more than this many bytes not yet taken by the client misses events. */
  maxBufferedBytes: number;
  dropRate: () => number;
  logger: Logger;
}

export class ListenerHub {
  private readonly listeners = new Map<number, Listener>();
  private readonly changes = new EventEmitter();
  private nextId = 1;
  private readonly options: ListenerHubOptions;

  constructor(options: ListenerHubOptions) {
    this.options = options;
  }

  /** Takes over a response whose 200 head was already sent, until the client goes away. */
  attach(res: ServerResponse, filter: ListenFilter, pingSeconds: number | undefined): void {
    const id = this.nextId++;
    const keepAlive =
      pingSeconds === undefined
        ? () => this.write(listener, " ")
        : () => this.write(listener, EMPTY_RECORDS_LINE);
    const intervalMs = pingSeconds === undefined ? this.options.keepAliveMs : pingSeconds * 1000;
    const listener: Listener = {
      id,
      filter,
      ping: pingSeconds,
      connectedAt: new Date().toISOString(),
      delivered: 0,
      dropped: 0,
      drops: new EvenDrops(),
      res,
      timer: setInterval(keepAlive, intervalMs),
    };
    this.listeners.set(id, listener);
    res.once("close", () => this.detach(id));
    // A client that resets the connection must not take the server down with an unhandled error.
    res.on("error", (error) =>
      this.options.logger.debug({ listener: id, err: error }, "listen stream error"),
    );
    this.options.logger.debug(
      { listener: id, bucket: filter.bucket, events: filter.events },
      "listener connected",
    );
    this.changes.emit("change");
  }

  private detach(id: number): void {
    const listener = this.listeners.get(id);
    if (!listener) return;
    clearInterval(listener.timer);
    this.listeners.delete(id);
    this.options.logger.debug(
      { listener: id, delivered: listener.delivered, dropped: listener.dropped },
      "listener disconnected",
    );
    this.changes.emit("change");
  }

  private write(listener: Listener, text: string): boolean {
    if (listener.res.destroyed || listener.res.writableEnded) return false;
    listener.res.write(text);
    return true;
  }

  /** Sends an event to every listener whose filter matches; nobody listening means it is lost. */
  publish(event: S3EventNotification): void {
    let line: string | undefined;
    for (const listener of this.listeners.values()) {
      const { filter } = listener;
      if (filter.bucket !== "" && filter.bucket !== event.bucket) continue;
      if (!filter.names.has(event.eventName) || !matchPattern(filter.pattern, event.key)) continue;
      const slow = listener.res.writableLength > this.options.maxBufferedBytes;
      if (slow || listener.drops.next(this.options.dropRate())) {
        listener.dropped += 1;
        continue;
      }
      line ??= eventLine(event);
      if (this.write(listener, line)) listener.delivered += 1;
    }
  }

  /**
   * Ends every stream now: `reset` destroys the connection (the client sees a socket error),
   * `end` finishes the response cleanly (the client sees the stream end).
   */
  cut(mode: CutMode): number {
    const listeners = [...this.listeners.values()];
    for (const listener of listeners) {
      if (mode === "reset") listener.res.destroy();
      else listener.res.end();
      this.detach(listener.id);
    }
    return listeners.length;
  }

  /** Writes a line that is not JSON to every stream; returns how many received it. */
  injectGarbage(line: string): number {
    let written = 0;
    for (const listener of this.listeners.values()) {
      if (this.write(listener, line.endsWith("\n") ? line : `${line}\n`)) written += 1;
    }
    return written;
  }

  list(): ListenerInfo[] {
    return [...this.listeners.values()].map(({ id, filter, ping, connectedAt, delivered, dropped }) => ({
      id,
      bucket: filter.bucket,
      events: filter.events,
      prefix: filter.prefix,
      suffix: filter.suffix,
      ping,
      connectedAt,
      delivered,
      dropped,
    }));
  }

  count(): number {
    return this.listeners.size;
  }

  /** Resolves once at least `count` listeners are connected. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.listeners.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = () => {
        if (this.listeners.size < count) return;
        clearTimeout(timer);
        this.changes.off("change", onChange);
        resolve();
      };
      const timer = setTimeout(() => {
        this.changes.off("change", onChange);
        reject(
          new Error(`expected ${count} listener(s) within ${timeoutMs} ms, have ${this.listeners.size}`),
        );
      }, timeoutMs);
      this.changes.on("change", onChange);
    });
  }

  closeAll(): void {
    this.cut("reset");
  }
}
