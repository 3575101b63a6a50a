import { compileRecipientPattern, type RecipientPattern } from "./recipient-pattern.ts";

export interface FaultCounters {
  /** Messages answered 451 at the end of DATA because of failNext. */
  transientFailures: number;
  /** RCPT TO commands answered 550 because the address matched a reject pattern. */
  rejectedRecipients: number;
}

/** Message-level faults: which transactions get a transient failure, which recipients a 550. */
export class MessageFaults {
  private remainingFailures = 0;
  private patterns: RecipientPattern[] = [];
  private readonly counters: FaultCounters = { transientFailures: 0, rejectedRecipients: 0 };

  /** The next `count` messages are answered 451 after their DATA; 0 turns it off. */
  failNext(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`failNext needs a whole number ≥ 0, got ${String(count)}`);
    }
    this.remainingFailures = count;
  }

  /** Spends one pending transient failure, if any. */
  takeTransientFailure(): boolean {
    if (this.remainingFailures === 0) return false;
    this.remainingFailures -= 1;
    this.counters.transientFailures += 1;
    return true;
  }

  /** Replaces the reject patterns; an invalid one throws and leaves the old list in place. */
  rejectRecipients(patterns: readonly string[]): void {
    this.patterns = patterns.map(compileRecipientPattern);
  }

  isRejected(address: string): boolean {
    const rejected = this.patterns.some((pattern) => pattern.matches(address));
    if (rejected) this.counters.rejectedRecipients += 1;
    return rejected;
  }

  reset(): void {
    this.remainingFailures = 0;
    this.patterns = [];
  }

  snapshot(): { failNext: number; rejectRecipients: string[]; triggered: FaultCounters } {
    return {
      failNext: this.remainingFailures,
      rejectRecipients: this.patterns.map((pattern) => pattern.source),
      triggered: { ...this.counters },
    };
  }
}
