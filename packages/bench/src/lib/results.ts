import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** bench-results/ at the repository root: ignored by git and biome. */
export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL("../../../../bench-results/", import.meta.url));

export function writeResult(dir: string, name: string, result: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
