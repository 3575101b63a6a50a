import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export function repoPath(relative: string): string {
  return `${repoRoot}${relative}`;
}

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), "utf8");
}
