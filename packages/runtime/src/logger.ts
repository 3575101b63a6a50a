import { pino } from "pino";

export type Logger = pino.Logger;

// Anything that can hold a credential is censored wherever it appears in a log object.
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  "headers.authorization",
  "authorization",
  "*.apiKey",
  "*.apiKeys",
  "*.apiSecret",
  "*.secretKey",
  "*.secret",
  "*.pass",
  "*.password",
  "*.accessKey",
  "*.dashboardPassword",
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/** A structured JSON logger for one component (app, worker, emulator). */
export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
