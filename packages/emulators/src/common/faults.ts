import type { z } from "zod";

/** A fault patch that does not validate; the message names every bad field. */
export class InvalidFaultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidFaultsError";
  }
}

/** Validates a fault patch against an emulator's schema, or throws InvalidFaultsError. */
export function parsePatch<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join(".");
      return field ? `${field}: ${issue.message}` : issue.message;
    });
    throw new InvalidFaultsError(`invalid faults: ${problems.join("; ")}`);
  }
  return result.data;
}

/**
 * Decides which events a "drop this fraction" fault loses: exactly that fraction of each run,
 * spread evenly (0.3 drops the 4th, 7th and 10th of every ten), the same on every run. Chance
 * would make a test's outcome depend on luck; a fixed pattern still loses events the client
 * cannot predict. A new fraction starts a new run.
 */
export class EvenDrops {
  private fraction = 0;
  private seen = 0;
  private dropped = 0;

  next(fraction: number): boolean {
    if (fraction !== this.fraction) {
      this.fraction = fraction;
      this.seen = 0;
      this.dropped = 0;
    }
    this.seen += 1;
    if (Math.floor(this.seen * fraction) <= this.dropped) return false;
    this.dropped += 1;
    return true;
  }
}
