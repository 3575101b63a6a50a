import {
  ConfigError,
  exitOnConfigError,
  type FleetConfig,
  loadConfigOrExit,
  type Section,
  settingsHelp,
} from "@recfleet/config";
import { flushAndExit, Lifecycle } from "./lifecycle.ts";
import { createLogger, type Logger } from "./logger.ts";

export interface AppContext<S extends Section> {
  config: Pick<FleetConfig, S | "log">;
  logger: Logger;
  lifecycle: Lifecycle;
}

export interface AppDefinition<S extends Section> {
  /** Component name in logs and metrics. */
  name: string;
  /** Config sections this app reads; `log` is always included. */
  sections: readonly S[];
  /** Longest a graceful shutdown may take before the process exits 1. */
  shutdownDeadlineMs: (config: Pick<FleetConfig, S | "log">) => number;
  /** Opens everything and registers each thing to close with `lifecycle.add`. */
  start: (context: AppContext<S>) => Promise<void>;
}

/**
 * An app takes no arguments, only environment variables: `--help` lists them and exits 0, any
 * other argument is refused (exit 2) rather than silently ignored.
 */
function answerArguments(name: string, sections: readonly Section[]): void {
  const args = process.argv.slice(2);
  if (args.length === 0) return;
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    process.stdout.write(
      `recfleet ${name}: configured by environment variables only (docs/configuration.md has them all).\n\nThe settings it reads:\n${settingsHelp(sections)}\n`,
    );
    process.exit(0);
  }
  process.stderr.write(
    `recfleet ${name}: takes no arguments (got ${JSON.stringify(args[0])}); it is configured by environment variables: --help lists them\n`,
  );
  process.exit(2);
}

/**
 * The composition root every app's main.ts calls: config (exit 78 on a bad value), logger,
 * signal handling, start. A failure to start is logged and exits 1 after closing what opened.
 */
export async function runApp<S extends Section>(definition: AppDefinition<S>): Promise<AppContext<S>> {
  const sections = [...definition.sections, "log"] as (S | "log")[];
  answerArguments(definition.name, sections);
  const config = loadConfigOrExit(sections);
  const logger = createLogger(definition.name, { level: config.log.level });
  const lifecycle = new Lifecycle(logger);
  lifecycle.handleSignals(definition.shutdownDeadlineMs(config));
  const context = { config, logger, lifecycle };
  try {
    await definition.start(context);
  } catch (error) {
    // A setting found wrong while starting (an encoding profile, say) is a config error too.
    if (error instanceof ConfigError) exitOnConfigError(error);
    logger.error({ err: error }, "failed to start");
    await lifecycle.shutdown("start failed");
    flushAndExit(logger, 1);
  }
  logger.info({ node: process.version }, `${definition.name} started`);
  return context;
}
