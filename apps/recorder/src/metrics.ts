import { Counter, Histogram, type Registry } from "prom-client";

export interface RecorderMetrics {
  jobs: Counter<"job" | "outcome">;
  jobDuration: Histogram<"job">;
  egressCalls: Histogram<"method" | "outcome">;
  egressErrors: Counter<"method" | "code">;
  reconcileActions: Counter<"action">;
  startBackpressure: Counter<"cause">;
  orphansStopped: Counter<"reason">;
}

export function createRecorderMetrics(registry: Registry): RecorderMetrics {
  return {
    jobs: new Counter({
      name: "recfleet_recorder_jobs_total",
      help: "Control jobs handled, by job name and outcome.",
      labelNames: ["job", "outcome"],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "recfleet_recorder_job_duration_seconds",
      help: "Time spent handling one control job.",
      labelNames: ["job"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    egressCalls: new Histogram({
      name: "recfleet_recorder_egress_request_duration_seconds",
      help: "Latency of LiveKit Egress API calls, by method and outcome (ok or the error code).",
      labelNames: ["method", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    egressErrors: new Counter({
      name: "recfleet_recorder_egress_errors_total",
      help: "LiveKit Egress API errors, by method and code (unavailable = fleet full).",
      labelNames: ["method", "code"],
      registers: [registry],
    }),
    reconcileActions: new Counter({
      name: "recfleet_recorder_reconcile_actions_total",
      help: "What the reconciler changed, by action.",
      labelNames: ["action"],
      registers: [registry],
    }),
    startBackpressure: new Counter({
      name: "recfleet_recorder_start_backpressure_total",
      help: "Starts put off because egress could not take them, by cause: unavailable (a full or absent fleet answered 503), timeout (no answer in time: a full fleet answers only after ~20 s), or another retryable code.",
      labelNames: ["cause"],
      registers: [registry],
    }),
    orphansStopped: new Counter({
      name: "recfleet_recorder_orphan_egresses_stopped_total",
      help: "Egresses recfleet started that were still running for a recording that is finished, unknown or has another egress, and were stopped; by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
  };
}
