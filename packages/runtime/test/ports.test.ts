import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort, reservePort } from "../src/ports.ts";

const ports = fileURLToPath(new URL("../src/ports.ts", import.meta.url));

describe("freePort", () => {
  it("hands out ports outside the kernel's ephemeral range, never the same one twice", async () => {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    const taken = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(taken).size).toBe(50);
    for (const port of taken) expect(port).toBeLessThan(low ?? 32768);
  });

  it("never gives another process a port this one holds", async () => {
    const mine = new Set(await Promise.all(Array.from({ length: 200 }, () => freePort())));
    const script = `import { freePort } from ${JSON.stringify(ports)};
const got = []; for (let i = 0; i < 200; i += 1) got.push(await freePort()); console.log(JSON.stringify(got));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.status).toBe(0);
    const theirs = JSON.parse(child.stdout) as number[];
    expect(theirs.filter((port) => mine.has(port))).toEqual([]);
  });

  it("takes over the reservation of a process that died, never one of a live process", () => {
    // Reservations are directories: ports above the range freePort hands out cannot collide.
    const reservation = (port: number, pid: number) => {
      const dir = join(tmpdir(), "recfleet-ports", String(port));
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "pid"), String(pid));
    };
    reservation(65_001, 2_147_483_646); // no such pid: pid_max is far below it
    expect(reservePort(65_001)).toBe(true);
    expect(reservePort(65_001)).toBe(false); // now this process holds it
    reservation(65_002, process.ppid); // a live process
    expect(reservePort(65_002)).toBe(false);
    rmSync(join(tmpdir(), "recfleet-ports", "65002"), { recursive: true, force: true });
  });
});
