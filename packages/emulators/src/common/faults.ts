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
