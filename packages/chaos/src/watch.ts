import type { Recording, RecordingStore } from "@recfleet/recordings";

interface Waiter {
  id: string;
  predicate: (recording: Recording) => boolean;
  what: string;
  deadline: number;
  resolve: (recording: Recording) => void;
  reject: (error: Error) => void;
}

const CHUNK = 64;

/**
 * Waits for recordings to reach a state by reading them straight from Redis, a few times a
 * second, all waiters in one sweep: hundreds of recordings in flight cost one batch of reads,
 * not hundreds of API calls (and no API log lines). While Redis is away a sweep just fails and
 * the next one tries again.
 */
export class RecordingWatch {
  private readonly store: RecordingStore;
  private readonly intervalMs: number;
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The last state seen of every recording watched. */
  readonly latest = new Map<string, Recording>();

  constructor(store: RecordingStore, intervalMs = 300) {
    this.store = store;
    this.intervalMs = intervalMs;
  }

  waitFor(
    id: string,
    predicate: (recording: Recording) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Recording> {
    if (this.closed) return Promise.reject(new Error("the watch is closed"));
    const seen = this.latest.get(id);
    if (seen && predicate(seen)) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.add({ id, predicate, what, deadline: Date.now() + timeoutMs, resolve, reject });
      this.schedule();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const waiter of this.waiters) waiter.reject(new Error("the watch was closed"));
    this.waiters.clear();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      void this.sweep().finally(() => {
        this.timer = undefined;
        if (this.waiters.size > 0) this.schedule();
      });
    }, this.intervalMs);
  }

  private async sweep(): Promise<void> {
    const ids = [...new Set([...this.waiters].map((waiter) => waiter.id))];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      try {
        const recordings = await Promise.all(chunk.map((id) => this.store.get(id)));
        for (const recording of recordings) if (recording) this.latest.set(recording.id, recording);
      } catch {
        // Redis is away (an outage the scenario made): the deadlines below still apply.
      }
    }
    const now = Date.now();
    for (const waiter of [...this.waiters]) {
      const recording = this.latest.get(waiter.id);
      if (recording && waiter.predicate(recording)) {
        this.waiters.delete(waiter);
        waiter.resolve(recording);
      } else if (now > waiter.deadline) {
        this.waiters.delete(waiter);
        const last = recording
          ? `${recording.status}; last timeline entries: ${recording.timeline
              .slice(-3)
              .map((entry) => `${entry.status}: ${entry.reason}`)
              .join(" | ")}`
          : "never seen";
        waiter.reject(new Error(`recording ${waiter.id} did not become ${waiter.what} in time (${last})`));
      }
    }
  }
}
