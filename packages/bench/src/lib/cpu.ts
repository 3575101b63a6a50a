import { readdirSync, readFileSync } from "node:fs";

// USER_HZ: /proc reports CPU time in ticks of 1/100 s on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

interface MachineTimes {
  busy: number;
  total: number;
}

function machineTimes(): MachineTimes | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

function parseStat(stat: string): { ppid: number; cpuSeconds: number; reapedChildrenSeconds: number } {
  // Fields after the command name (which may hold spaces) start at field 3: ppid is field 4,
  // utime 14, stime 15, and cutime 16, cstime 17 (children that exited and were waited for).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    reapedChildrenSeconds: (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND,
  };
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8")).cpuSeconds;
}

/**
 * CPU seconds used by this process and every process it started (the fleet, Redis, the
 * comparison servers): the live ones' own time plus what the ones that ended had used (their
 * parent's cutime/cstime), so a fleet stopped within a window still counts.
 */
function treeCpuSeconds(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid, cpuSeconds, reapedChildrenSeconds } = parseStat(
        readFileSync(`/proc/${entry}/stat`, "utf8"),
      );
      const pid = Number(entry);
      cpu.set(pid, cpuSeconds + reapedChildrenSeconds);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process ended while we were reading
    }
  }
  let total = 0;
  const pending = [process.pid];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    total += cpu.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

export interface CpuUse {
  /** Cores busy on the whole machine on average (2 = both cores saturated). */
  machine: number;
  /** Of which this benchmark: the bench process and everything it started. */
  ours: number;
  /** Of which anything else running on the machine (other work disturbs the numbers). */
  others: number;
}

/**
 * How busy the machine was between start and stop, and how much of it was not this
 * benchmark: tells a benchmark limited by CPU from one limited by waiting, and a clean run
 * from a disturbed one.
 */
export function startCpuSampler(cores: number): { stop(): CpuUse } {
  const before = machineTimes();
  const oursBefore = treeCpuSeconds();
  const started = performance.now();
  return {
    stop: () => {
      const after = machineTimes();
      const oursAfter = treeCpuSeconds();
      const seconds = (performance.now() - started) / 1000;
      if (!before || !after || after.total === before.total || seconds <= 0) {
        return { machine: Number.NaN, ours: Number.NaN, others: Number.NaN };
      }
      const machine = ((after.busy - before.busy) / (after.total - before.total)) * cores;
      const ours =
        oursBefore === undefined || oursAfter === undefined ? Number.NaN : (oursAfter - oursBefore) / seconds;
      return { machine, ours, others: Math.max(0, machine - ours) };
    },
  };
}

/** CPU time of a recfleet app, from process_cpu_seconds_total on its /metrics. */
export async function appCpuSeconds(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
  const value = /^process_cpu_seconds_total(?:\{[^}]*\})?\s+(\S+)/m.exec(text)?.[1];
  if (value === undefined) throw new Error(`${metricsUrl} has no process_cpu_seconds_total`);
  return Number(value);
}

/** This process' own CPU time in seconds (the load generator, when it runs here). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
