export { type AppContext, type AppDefinition, runApp } from "./app.ts";
export { type BackoffPolicy, backoffDelay } from "./backoff.ts";
export {
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
  type ReadinessResult,
  runChecks,
  startHealthServer,
} from "./health-server.ts";
export { flushAndExit, Lifecycle } from "./lifecycle.ts";
export { createLogger, type Logger, type LoggerOptions, REDACTED_PATHS } from "./logger.ts";
export { createMetricsRegistry } from "./metrics.ts";
export { nonPublicKind, withArticle } from "./non-public-address.ts";
export { freePort, listenError } from "./ports.ts";
export { processAlive } from "./process-alive.ts";
export { formatSpan } from "./span.ts";
export { TimeoutError, withTimeout } from "./timeout.ts";
