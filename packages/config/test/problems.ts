import { expect } from "vitest";
import { ConfigError } from "../src/index.ts";

/** The lines a ConfigError prints, one per problem; fails unless `run` throws one. */
export function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split("\n");
  }
  throw new Error("expected a ConfigError");
}
