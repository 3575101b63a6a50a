// The sandbox's state folder: one sandbox per folder, and --fresh keeps the lock it holds.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockState, prepareState, SandboxLockedError } from "../src/state.ts";

describe("the sandbox lock", () => {
  it("is refused while its holder lives, naming it, and released by its holder only", () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-lock-"));
    // A live process that is not this one holds it: the one that started this test.
    const livePid = process.ppid;
    writeFileSync(join(dir, "sandbox.lock"), `${livePid}\n`);
    expect(() => lockState(dir)).toThrow(SandboxLockedError);
    expect(() => lockState(dir)).toThrow(`a sandbox is already running on ${dir} (pid ${livePid})`);
    expect(readFileSync(join(dir, "sandbox.lock"), "utf8").trim()).toBe(String(livePid));
  });

  it("takes over a lock whose process is gone, and --fresh wipes everything but it", () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-lock-"));
    // The pid of a process that has exited.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(join(dir, "sandbox.lock"), `${gone.stdout}\n`);
    writeFileSync(join(dir, "api-key"), "old\n");
    const release = lockState(dir);
    expect(readFileSync(join(dir, "sandbox.lock"), "utf8").trim()).toBe(String(process.pid));
    prepareState({ SANDBOX_DIR: dir }, true);
    expect(existsSync(join(dir, "api-key"))).toBe(false);
    expect(existsSync(join(dir, "sandbox.lock"))).toBe(true);
    release();
    expect(existsSync(join(dir, "sandbox.lock"))).toBe(false);
  });
});
