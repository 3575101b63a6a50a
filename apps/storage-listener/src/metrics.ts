import { Counter, Gauge, type Registry } from "prom-client";

export interface ListenerMetrics {
  events: Counter<"event">;
  matches: Counter<"source">;
  ignored: Counter<"reason">;
  resyncs: Counter<"outcome">;
  reconnects: Counter<"reason">;
  connected: Gauge;
}

export function createListenerMetrics(registry: Registry): ListenerMetrics {
  return {
    events: new Counter({
      name: "recfleet_listener_events_total",
      help: "Bucket notification records received, by event name.",
      labelNames: ["event"],
      registers: [registry],
    }),
    matches: new Counter({
      name: "recfleet_listener_matches_total",
      help: "Recording files handled, by how they were found (event or resync).",
      labelNames: ["source"],
      registers: [registry],
    }),
    ignored: new Counter({
      name: "recfleet_listener_ignored_total",
      help: "Objects ignored, by reason (not a recording key, unknown recording, recording not waiting for a file).",
      labelNames: ["reason"],
      registers: [registry],
    }),
    resyncs: new Counter({
      name: "recfleet_listener_resyncs_total",
      help: "Bucket re-scans, by outcome.",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: "recfleet_listener_reconnects_total",
      help: "Times the bucket listener was re-created, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    connected: new Gauge({
      name: "recfleet_listener_connected",
      help: "1 while the bucket listener is connected.",
      registers: [registry],
    }),
  };
}
