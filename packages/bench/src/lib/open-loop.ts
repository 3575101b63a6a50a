import { Agent, request } from "node:http";
import { type CpuUse, startCpuSampler } from "./cpu.ts";
import { paced } from "./recordings.ts";
import { type Summary, summarize } from "./stats.ts";

export interface OpenLoopOptions {
  url: string;
  path: string;
  headers?: Record<string, string>;
  ratePerSecond: number;
  durationSeconds: number;
  body: (n: number) => unknown;
  cores: number;
}

export interface OpenLoopResult {
  ratePerSecond: number;
  sent: number;
  statuses: Record<string, number>;
  errors: number;
  latency: Summary;
  /** How late the sends left against their schedule (the generator's own jitter). */
  sendLateness: Summary;
  cpu: CpuUse;
}

/**
 * Open-loop load: request i leaves at start + i / rate whether or not earlier ones were
 * answered, as independent clients would. Latency runs from the actual send to the end of the
 * answer; how late sends left is reported apart. (autocannon's rate option is no substitute: it
 * sends each second's quota in a burst at the start of the second.)
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(options.path, options.url);
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  const send = (n: number) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const payload = JSON.stringify(options.body(n));
      const req = request(
        target,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            ...options.headers,
          },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.once("end", () => {
            const status = res.statusCode ?? 0;
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (status >= 200 && status < 300) latencies.push(performance.now() - started);
            resolve();
          });
        },
      );
      req.once("timeout", () => req.destroy(new Error("timed out")));
      req.once("error", () => {
        errors += 1;
        resolve();
      });
      req.end(payload);
    });
  const cpu = startCpuSampler(options.cores);
  const count = Math.round(options.ratePerSecond * options.durationSeconds);
  const { lateness } = await paced(count, options.ratePerSecond, send);
  const cpuUse = cpu.stop();
  agent.destroy();
  return {
    ratePerSecond: options.ratePerSecond,
    sent: count,
    statuses,
    errors,
    latency: summarize(latencies),
    sendLateness: summarize(lateness),
    cpu: cpuUse,
  };
}
