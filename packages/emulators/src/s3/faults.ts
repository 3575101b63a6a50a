import { z } from "zod";
import { InvalidFaultsError, parsePatch } from "../common/faults.ts";

export { InvalidFaultsError };

import { S3Error } from "./errors.ts";

export type FailCode = "SlowDown" | "ServiceUnavailable";

/** The knobs that make the emulator misbehave the way a real MinIO does. */
export interface S3Faults {
  /**
   * Fraction (0..1) of events lost, decided for each event and each listener separately: with
   * 0.5 and two listeners, an event may reach both, one or neither.
   */
  dropEvents: number;
  /** Until when every S3 request is answered 503 (ISO time); null when not failing. */
  failUntil: string | null;
  /** How many of the next S3 requests are answered 503, whatever the time. */
  failNext: number;
  /** The error those 503 answers carry. */
  failCode: FailCode;
}

export const faultPatchSchema = z
  .object({
    dropEvents: z.number().min(0).max(1),
    /** Answer 503 to every S3 request for this long from now; 0 stops failing. */
    failForMs: z.number().int().min(0),
    /** Answer 503 to the next n S3 requests (a deterministic outage: exactly n failed tries). */
    failNext: z.number().int().min(0).max(1_000_000),
    failCode: z.enum(["SlowDown", "ServiceUnavailable"]),
  })
  .partial()
  .strict();

export type FaultPatch = z.infer<typeof faultPatchSchema>;

/** Validates a patch; the message names every bad field. */
export function parseFaultPatch(input: unknown): FaultPatch {
  return parsePatch(faultPatchSchema, input);
}

/** Holds the current faults; `failure()` is what the router asks before serving a request. */
export class FaultState {
  private dropEvents = 0;
  private failUntilMs = 0;
  private failNext = 0;
  private failCode: FailCode = "SlowDown";
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  apply(patch: FaultPatch): S3Faults {
    const valid = parseFaultPatch(patch);
    if (valid.dropEvents !== undefined) this.dropEvents = valid.dropEvents;
    if (valid.failCode !== undefined) this.failCode = valid.failCode;
    if (valid.failNext !== undefined) this.failNext = valid.failNext;
    if (valid.failForMs !== undefined)
      this.failUntilMs = valid.failForMs === 0 ? 0 : this.now() + valid.failForMs;
    return this.snapshot();
  }

  reset(): S3Faults {
    this.dropEvents = 0;
    this.failUntilMs = 0;
    this.failNext = 0;
    this.failCode = "SlowDown";
    return this.snapshot();
  }

  dropRate(): number {
    return this.dropEvents;
  }

  failure(): S3Error | undefined {
    if (this.failNext > 0) {
      this.failNext -= 1;
      return new S3Error(this.failCode);
    }
    return this.now() < this.failUntilMs ? new S3Error(this.failCode) : undefined;
  }

  snapshot(): S3Faults {
    const failing = this.now() < this.failUntilMs;
    return {
      dropEvents: this.dropEvents,
      failUntil: failing ? new Date(this.failUntilMs).toISOString() : null,
      failNext: this.failNext,
      failCode: this.failCode,
    };
  }
}
