import { z } from "zod";
import { InvalidFaultsError, parsePatch } from "../common/faults.ts";

export { InvalidFaultsError };

/** The knobs that make the emulator behave (and misbehave) the way a real egress fleet does. */
export interface EgressFaults {
  /** At most this many egresses running at once; Start answers 503 beyond it. null: no limit. */
  capacity: number | null;
  /**
   * How late that 503 comes: no instance bids, and livekit-server gives up only after psrpc's
   * retries (about 18–27 s; 20 s by default here).
   */
  refusalDelayMs: number;
  /** How long Start takes to answer; the egress exists from the first millisecond. */
  startLatencyMs: number;
  /** How long an egress stays STARTING before it goes ACTIVE. */
  activationDelayMs: number;
  /** An ACTIVE egress ends by itself with EGRESS_LIMIT_REACHED after this long. null: never. */
  maxDurationMs: number | null;
  /** Fraction (0..1) of webhook events that are never delivered. */
  dropWebhooks: number;
  /** The next N egresses to go ACTIVE fail `failAfterMs` later. */
  failNext: number;
  failAfterMs: number;
  /** The error a failed egress reports. */
  failError: string;
  /** The next N egresses to go ACTIVE crash: they stay ACTIVE forever and never send a webhook. */
  crashNext: number;
}

export const DEFAULT_FAULTS: EgressFaults = {
  capacity: null,
  refusalDelayMs: 20_000,
  startLatencyMs: 0,
  activationDelayMs: 1000,
  maxDurationMs: null,
  dropWebhooks: 0,
  failNext: 0,
  failAfterMs: 0,
  failError: "recording ended early: connection to room failed",
  crashNext: 0,
};

const wholeMs = z.number().int().min(0);

/** A partial update of the faults, as the admin endpoint and `setFaults` take it. */
export const faultPatchSchema = z
  .object({
    capacity: z.number().int().min(0).nullable(),
    refusalDelayMs: wholeMs,
    startLatencyMs: wholeMs,
    activationDelayMs: wholeMs,
    maxDurationMs: z.number().int().min(1).nullable(),
    dropWebhooks: z.number().min(0).max(1),
    failNext: z.number().int().min(0),
    failAfterMs: wholeMs,
    failError: z.string().min(1),
    crashNext: z.number().int().min(0),
  })
  .partial()
  .strict();

export type FaultPatch = z.infer<typeof faultPatchSchema>;

/** Validates a patch; the message names every bad field. */
export function parseFaultPatch(input: unknown): FaultPatch {
  return parsePatch(faultPatchSchema, input);
}
