// scripts/fleet.mjs, behind `npm start`, `npm test` and the other root scripts: it says what it
// does when asked, and refuses what it does not know.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../../scripts/fleet.mjs", import.meta.url));
const rootPackage = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8"),
) as { scripts: Record<string, string> };

function run(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 30_000 });
}

describe("scripts/fleet.mjs", () => {
  it("answers --help with every command it runs, and exits 0", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const result = run(flag);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^Usage: node scripts\/fleet\.mjs <command>/);
    }
    const help = run("--help").stdout;
    // Every root npm script that goes through it is listed.
    for (const command of Object.values(rootPackage.scripts)) {
      const name = /^node scripts\/fleet\.mjs (\S+)/.exec(command)?.[1];
      if (name) expect(help).toMatch(new RegExp(`^  ${name.replace(":", "\\:")} `, "m"));
    }
  });

  it("refuses an unknown command with exit 2 and the usage", () => {
    const result = run("deploy-to-the-moon");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('recfleet: unknown command "deploy-to-the-moon"');
    expect(result.stderr).toContain("Usage: node scripts/fleet.mjs");
  });
});
