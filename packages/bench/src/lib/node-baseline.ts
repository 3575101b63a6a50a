import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PRINT_RSS = "process.stdout.write(String(process.memoryUsage().rss));";

function rssOf(args: string[]): number {
  const result = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 20_000 });
  const value = Number(result.stdout.trim());
  if (result.status !== 0 || !Number.isFinite(value)) {
    throw new Error(`could not measure a bare Node process: ${result.stderr.slice(0, 300)}`);
  }
  return value;
}

/**
 * What a Node process costs before it does anything, on this machine and Node version: plain
 * JavaScript, and a TypeScript file (Node's type stripping loads a WebAssembly transformer).
 * The floor under every app's RSS.
 */
export function bareNodeRss(): { javascript: number; typescript: number } {
  const dir = mkdtempSync(join(tmpdir(), "recfleet-bench-"));
  try {
    const file = join(dir, "rss.ts");
    writeFileSync(
      file,
      `const rss: number = process.memoryUsage().rss;\nprocess.stdout.write(String(rss));\n`,
    );
    return { javascript: rssOf(["-e", PRINT_RSS]), typescript: rssOf([file]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
