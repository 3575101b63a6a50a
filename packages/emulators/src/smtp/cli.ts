import { createLogger, flushAndExit, Lifecycle } from "@recfleet/runtime";
import { optionsOrExit, parseFlags, secretFromEnv, UsageError, wholeNumber } from "../common/cli.ts";
import { startSmtpEmulator } from "./emulator.ts";
import { compileRecipientPattern } from "./recipient-pattern.ts";

const USAGE = `Usage: smtp emulator [options]

An SMTP server that stores every message it accepts (.eml + JSON index) and lists them over HTTP.

Options:
  --host <address>         interface both servers bind to (default 127.0.0.1)
  --smtp-port <n>          SMTP port, 0 for a free one (default 2525)
  --http-port <n>          HTTP port of the listing, JSON API and admin endpoints, 0 for a free one (default 8025)
  --dir <path>             message directory, kept across restarts (default: a temporary
                           directory, removed on exit)
  --user <name>            require SMTP AUTH (PLAIN/LOGIN) with this user; its password comes from
                           $SMTP_EMULATOR_PASSWORD or the file $SMTP_EMULATOR_PASSWORD_FILE, never
                           from the command line
  --max-size <bytes>       largest message accepted, larger ones get 552 (default 10485760)
  --fail-next <n>          answer the first n messages "451 4.3.0 Try again later"
  --reject-pattern <p>     answer recipients matching p "550 5.1.1" at RCPT TO; a glob
                           (* and ?, whole address, case-insensitive) or /regex/flags; repeatable
  --refuse-for <ms>        refuse SMTP connections for ms right after starting
  --log-level <level>      pino level (default info)
  -h, --help               show this help

Every flag also takes the form --flag=value.

Prints one JSON line with "msg":"smtp emulator listening", "port"/"smtpPort" and "httpPort"
once both servers listen. SIGTERM or SIGINT closes it and exits 0.
`;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const OPTIONS = {
  host: { type: "string", default: "127.0.0.1" },
  "smtp-port": { type: "string", default: "2525" },
  "http-port": { type: "string", default: "8025" },
  dir: { type: "string" },
  user: { type: "string" },
  "max-size": { type: "string" },
  "fail-next": { type: "string" },
  "reject-pattern": { type: "string", multiple: true },
  "refuse-for": { type: "string" },
  "log-level": { type: "string", default: "info" },
  help: { type: "boolean", short: "h", default: false },
} as const;

function commandFrom(values: ReturnType<typeof parseFlags<typeof OPTIONS>>) {
  const password = secretFromEnv("SMTP_EMULATOR_PASSWORD");
  if ((values.user === undefined) !== (password === undefined)) {
    throw new UsageError("--user and SMTP_EMULATOR_PASSWORD (or SMTP_EMULATOR_PASSWORD_FILE) go together");
  }
  for (const pattern of values["reject-pattern"] ?? []) {
    try {
      compileRecipientPattern(pattern);
    } catch (error) {
      throw new UsageError(`--reject-pattern: ${(error as Error).message}`);
    }
  }
  if (!LOG_LEVELS.includes(values["log-level"])) {
    throw new UsageError(
      `--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(values["log-level"])}`,
    );
  }
  return {
    logLevel: values["log-level"],
    refuseForMs: wholeNumber("refuse-for", values["refuse-for"], { min: 1, max: 3_600_000 }),
    options: {
      host: values.host,
      smtpPort: wholeNumber("smtp-port", values["smtp-port"], { min: 0, max: 65_535 }),
      httpPort: wholeNumber("http-port", values["http-port"], { min: 0, max: 65_535 }),
      dir: values.dir,
      user: values.user,
      password,
      maxMessageBytes: wholeNumber("max-size", values["max-size"], { min: 1, max: Number.MAX_SAFE_INTEGER }),
      failNext: wholeNumber("fail-next", values["fail-next"], { min: 0, max: 1_000_000 }),
      rejectRecipients: values["reject-pattern"] ?? [],
    },
  };
}

async function main(): Promise<void> {
  const values = parseFlags(OPTIONS, USAGE, { password: "SMTP_EMULATOR_PASSWORD" });
  const command = optionsOrExit(() => commandFrom(values));
  const logger = createLogger("smtp-emulator", { level: command.logLevel });
  const lifecycle = new Lifecycle(logger);
  lifecycle.handleSignals(10_000);
  try {
    const emulator = await startSmtpEmulator({ ...command.options, logger });
    lifecycle.add("smtp emulator", () => emulator.close());
    logger.info(
      {
        port: emulator.smtpPort,
        smtpPort: emulator.smtpPort,
        httpPort: emulator.httpPort,
        url: emulator.url,
        httpUrl: emulator.httpUrl,
        dir: emulator.dir,
        auth: command.options.user !== undefined,
      },
      "smtp emulator listening",
    );
    // Same tick as the line above: no client can connect in between.
    if (command.refuseForMs !== undefined) emulator.refuseConnectionsFor(command.refuseForMs);
  } catch (error) {
    logger.error({ err: error }, "smtp emulator failed to start");
    await lifecycle.shutdown("start failed");
    flushAndExit(logger, 1);
  }
}

await main();
