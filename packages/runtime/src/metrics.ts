import { collectDefaultMetrics, Registry } from "prom-client";

/** A Prometheus registry with the default process metrics, every series labelled with the app. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}
