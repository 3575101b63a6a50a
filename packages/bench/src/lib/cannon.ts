import autocannon from "autocannon";
import { type CpuUse, startCpuSampler } from "./cpu.ts";
import { type Summary, summarize } from "./stats.ts";

/** Reads a process' CPU time so far, in seconds. */
export type CpuProbe = () => Promise<number> | number;

export interface CannonOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 */
  url: string;
  path: string;
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Offered load in requests/s over all connections; without it, closed loop (as fast as answered). */
  overallRate?: number;
  /** The JSON body of request number n (each request gets its own, e.g. a distinct room). */
  body: (n: number) => unknown;
  cores: number;
  /** CPU time of the processes taking part (server, Redis, load generator), read before and after. */
  cpuProbes?: Record<string, CpuProbe>;
}

export interface CannonResult {
  connections: number;
  overallRate: number | null;
  durationSeconds: number;
  /** 2xx answers per second over the run. */
  requestsPerSecond: number;
  completed: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Response times of the 2xx answers, from autocannon's per-request hrtime (not its histogram). */
  latency: Summary;
  /** Cores busy on the whole machine during the run (load generator, servers and Redis), and not ours. */
  cpu: CpuUse;
  /** CPU microseconds per 2xx answer, by probe name. */
  cpuPerRequestUs: Record<string, number>;
}

export interface CannonRun {
  result: CannonResult;
  /** Raw response times (ms) of the 2xx answers, to combine runs without losing percentiles. */
  samples: number[];
}

async function readProbes(probes: Record<string, CpuProbe>): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => [name, await probe()]),
  );
  return Object.fromEntries(entries);
}

/** Load at a fixed number of connections (closed loop, or a fixed rate), each request with its own JSON body. */
export async function runCannon(options: CannonOptions): Promise<CannonRun> {
  let sequence = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const probes = options.cpuProbes ?? {};
  const cpuBefore = await readProbes(probes);
  const cpu = startCpuSampler(options.cores);
  const outcome = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        requests: [
          {
            method: "POST",
            path: options.path,
            headers: { "content-type": "application/json", ...options.headers },
            setupRequest: (request) => {
              sequence += 1;
              return { ...request, body: JSON.stringify(options.body(sequence)) };
            },
          },
        ],
      },
      (error: Error | null, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const cpuUse = cpu.stop();
  const cpuAfter = await readProbes(probes);
  const ok = outcome["2xx"];
  const cpuPerRequestUs = Object.fromEntries(
    Object.keys(probes).map((name) => [name, (((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0)) / ok) * 1e6]),
  );
  return {
    result: {
      connections: options.connections,
      overallRate: options.overallRate ?? null,
      durationSeconds: outcome.duration,
      requestsPerSecond: ok / outcome.duration,
      completed: Object.values(statuses).reduce((sum, count) => sum + count, 0),
      statuses,
      errors: outcome.errors,
      timeouts: outcome.timeouts,
      latency: summarize(latencies),
      cpu: cpuUse,
      cpuPerRequestUs,
    },
    samples: latencies,
  };
}
