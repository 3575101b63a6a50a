// The sandbox's supervisor: what reaches the console, and what only the log file keeps.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Supervisor } from "../src/supervisor.ts";

describe("the supervisor's console", () => {
  it("shows an expected, repeated warning once as a short hint, and keeps it whole in the log", async () => {
    const logsDir = mkdtempSync(join(tmpdir(), "supervisor-"));
    const printed: string[] = [];
    const supervisor = new Supervisor({
      logsDir,
      print: (line) => printed.push(line),
      format: (_name, line) => line,
    });
    const script = [
      'console.log("# WARNING Memory overcommit must be enabled! long explanation");',
      'console.log("# WARNING Memory overcommit must be enabled! again");',
      'console.log("Ready to accept connections");',
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const child = await supervisor.start({
      name: "redis",
      command: process.execPath,
      args: ["-e", script],
      ready: (process) => process.waitForLine(/Ready to accept connections/, 10_000).then(() => undefined),
      quiet: [{ match: /WARNING Memory overcommit must be enabled/, instead: "(a harmless warning)" }],
    });
    expect(child.name).toBe("redis");
    await supervisor.stopAll();
    expect(printed).toEqual(["(a harmless warning)", "Ready to accept connections"]);
    const log = readFileSync(join(logsDir, "redis.log"), "utf8");
    expect(log).toContain("# WARNING Memory overcommit must be enabled! long explanation");
    expect(log).toContain("# WARNING Memory overcommit must be enabled! again");
  });

  it("keeps every line a process printed right before it exited, in its log", async () => {
    const logsDir = mkdtempSync(join(tmpdir(), "supervisor-"));
    const supervisor = new Supervisor({ logsDir, print: () => {}, format: (_name, line) => line });
    // A burst, then exit at once: the pipe still holds lines when 'exit' fires.
    const script = [
      'console.log("ready");',
      "setTimeout(() => {",
      '  const burst = Array.from({ length: 20000 }, (_, i) => `line ${i}`).join("\\n") + "\\n";',
      "  process.stdout.write(burst, () => process.exit(0));",
      "}, 50);",
    ].join("\n");
    const child = await supervisor.start({
      name: "burst",
      command: process.execPath,
      args: ["-e", script],
      ready: (process) => process.waitForLine(/^ready$/, 10_000).then(() => undefined),
    });
    await new Promise<void>((resolve) => child.child.once("close", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const log = readFileSync(join(logsDir, "burst.log"), "utf8").trimEnd().split("\n");
    expect(log.at(-1)).toBe("line 19999");
    expect(log).toHaveLength(20001);
  });
});
