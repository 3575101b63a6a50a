import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { flushAndExit, Lifecycle, type Logger } from "@recfleet/runtime";

/** A bad flag: the CLI prints the message and exits 2. */
export class UsageError extends Error {}

/** A flag holding a whole number within [min, max]; undefined when the flag is absent. */
export function wholeNumber(
  flag: string,
  value: string | undefined,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(
      `--${flag} needs a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** A flag holding a fraction from 0 to 1. */
/** `--flag true|false`; undefined when the flag is absent. */
export function bool(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`--${flag} needs true or false, got ${JSON.stringify(value)}`);
}

export function fraction(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new UsageError(`--${flag} needs a number from 0 to 1, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/**
 * Secrets never travel on the command line: argv shows in `ps` and in shell history, and a
 * generated value that starts with "-" reads as another flag. Each former secret flag maps to
 * the environment variable that replaces it, so that using one explains where the value goes.
 */
export type SecretFlags = Readonly<Record<string, string>>;

function refuseSecretFlags(argv: readonly string[], secretFlags: SecretFlags): void {
  for (const arg of argv) {
    for (const [flag, variable] of Object.entries(secretFlags)) {
      if (arg === `--${flag}` || arg.startsWith(`--${flag}=`)) {
        throw new UsageError(
          `--${flag} is not taken on the command line, where every user of the machine can read it; ` +
            `set ${variable} (or ${variable}_FILE, a file holding it) instead`,
        );
      }
    }
  }
}

/**
 * A secret from the environment: `NAME`, or the contents of the file named by `NAME_FILE`
 * (trailing newline removed), as container platforms mount secrets. Both set is an error.
 */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) {
    throw new UsageError(`set ${name} or ${name}_FILE, not both`);
  }
  if (file === undefined) return direct;
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new UsageError(`${name}_FILE: cannot read ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

/**
 * Parses the command line (`--flag value` and `--flag=value`), or prints the problem and the
 * help and exits 2; `--help` exits 0.
 */
export function parseFlags<const O extends NonNullable<ParseArgsConfig["options"]>>(
  options: O,
  help: string,
  secretFlags: SecretFlags = {},
  argv: readonly string[] = process.argv.slice(2),
) {
  try {
    refuseSecretFlags(argv, secretFlags);
    const { values } = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
    if ((values as { help?: unknown }).help === true) {
      process.stdout.write(help);
      process.exit(0);
    }
    return values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${help}`);
    process.exit(2);
  }
}

/** Builds the options from the flags; a UsageError prints its message and exits 2. */
export function optionsOrExit<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n(--help lists every flag)\n`);
    process.exit(2);
  }
}

/**
 * Starts an emulator, prints its "<name> emulator listening" line (with what `describe` returns,
 * which must include the port), and closes it on SIGTERM/SIGINT; exits 1 if it cannot start.
 */
export async function runEmulator<E extends { close(): Promise<void> }>(
  name: string,
  logger: Logger,
  start: () => Promise<E>,
  describe: (emulator: E) => Record<string, unknown>,
): Promise<void> {
  const lifecycle = new Lifecycle(logger);
  lifecycle.handleSignals(10_000);
  try {
    const emulator = await start();
    lifecycle.add(`${name} emulator`, () => emulator.close());
    logger.info(describe(emulator), `${name} emulator listening`);
  } catch (error) {
    logger.error({ err: error }, `${name} emulator failed to start`);
    flushAndExit(logger, 1);
  }
}
