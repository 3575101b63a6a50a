import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  redis: string;
  loadAverage: [number, number, number];
}

function cpuModel(): string {
  try {
    const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
    if (model) return model.trim();
  } catch {
    // not Linux: os.cpus() knows the model too
  }
  return cpus()[0]?.model ?? "unknown";
}

function redisVersion(): string {
  const binary = process.env.REDIS_SERVER_BIN ?? "redis-server";
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 5000 });
  if (probe.status !== 0) return "not installed";
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? probe.stdout.trim();
}

export function currentLoad(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return [one, five, fifteen];
}

/** What the numbers were measured on: they mean little without it. */
export function describeMachine(): Machine {
  return {
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
    redis: redisVersion(),
    loadAverage: currentLoad(),
  };
}

export function machineLine(machine: Machine): string {
  const gib = (machine.memoryBytes / 1024 ** 3).toFixed(1);
  return `${machine.cpuModel}, ${machine.cores} cores, ${gib} GiB, ${machine.os}, Node ${machine.node}, Redis ${machine.redis}`;
}
