import type { Table } from "./table.ts";

export interface BenchContext {
  /** A shorter run (smaller samples, shorter durations) for a quick look. */
  quick: boolean;
  log(message: string): void;
}

/** A target from the brief and how this run did against it. Reported, never asserted. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchmarkReport {
  tables: Table[];
  targets: TargetCheck[];
  /** Everything measured, for the JSON file. */
  data: Record<string, unknown>;
  /** What the numbers depend on (choices, limits), printed under the tables. */
  notes: string[];
}

export interface Benchmark {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchmarkReport>;
}
