import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "./process-alive.ts";

// A port handed out must stay free until the process it is meant for listens on it. Two things
// can take it meanwhile: another process of this machine picking the same port, and any outgoing
// connection, whose local port the kernel draws from its ephemeral range. So ports come from
// outside that range, and each one is reserved machine-wide (a directory made atomically, owned
// by this process and released when it exits) before it is tested and handed out.

const RESERVATIONS = join(tmpdir(), "recfleet-ports");
const held = new Set<string>();
let cursor: number | undefined;

/** Ports outside the kernel's ephemeral range (Linux: 32768–60999 by default). */
function candidateRange(): { first: number; last: number } {
  try {
    const [low = 32768] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low > 12_000) return { first: 10_000, last: low - 1 };
  } catch {
    // not Linux: fall through to the range below the usual ephemeral ones
  }
  return { first: 10_000, last: 32_767 };
}

function releaseAll(): void {
  for (const dir of held) rmSync(dir, { recursive: true, force: true });
  held.clear();
}

/** Takes the machine-wide reservation of a port, or returns false when a live process holds it. */
export function reservePort(port: number): boolean {
  const dir = join(RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "pid"), String(process.pid));
      if (held.size === 0) process.once("exit", releaseAll);
      held.add(dir);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(dir, "pid"), "utf8"));
    } catch {
      // being written or removed right now: treat it as held
      return false;
    }
    if (!Number.isInteger(owner) || processAlive(owner)) return false;
    // Left by a process that died: take it over atomically (only one renamer wins).
    const stale = `${dir}.stale-${process.pid}`;
    try {
      renameSync(dir, stale);
    } catch {
      return false;
    }
    rmSync(stale, { recursive: true, force: true });
  }
  return false;
}

/** Why `port` cannot be listened on (EADDRINUSE …), or undefined when it can; closed again at once. */
export function listenError(port: number, host = "127.0.0.1"): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on, reserved for this process (and what it
 * starts) until it exits: no other caller of freePort on this machine gets it, and no outgoing
 * connection takes it.
 */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  const { first, last } = candidateRange();
  const size = last - first + 1;
  // Processes start at different places, so that they rarely meet on the same reservations.
  cursor ??= (process.pid * 7919) % size;
  for (let tried = 0; tried < size; tried += 1) {
    const port = first + (cursor % size);
    cursor = (cursor + 1) % size;
    if (!reservePort(port)) continue;
    if ((await listenError(port)) === undefined) return port;
  }
  throw new Error(`no free port from ${first} to ${last}`);
}
