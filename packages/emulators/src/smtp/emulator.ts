import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "@recfleet/runtime";
import { closeServer, listen } from "../common/http.ts";
import { MessageFaults } from "./faults.ts";
import { createHttpApi, type FaultControl, type FaultState } from "./http-api.ts";
import { type MessageFilter, MessageStore, type StoredMessage } from "./message-store.ts";
import { type SmtpCredentials, startSmtpListener } from "./smtp-listener.ts";

export interface SmtpEmulatorOptions {
  /** Interface both servers bind to; 127.0.0.1 by default. */
  host?: string;
  /** SMTP port; 0 (the default) picks a free one. */
  smtpPort?: number;
  /** HTTP port of the listing, JSON API and admin endpoints; 0 (the default) picks a free one. */
  httpPort?: number;
  /**
   * Where messages are stored. Without it a fresh temporary directory is used and removed on
   * close; give one to keep messages across restarts.
   */
  dir?: string;
  /** With user and password, every sender must AUTH (PLAIN or LOGIN) with exactly these. */
  user?: string;
  password?: string;
  /** Largest message accepted, in bytes (advertised with SIZE; larger ones get 552). 10 MiB by default. */
  maxMessageBytes?: number;
  /** Answer the first N messages 451 at the end of DATA. */
  failNext?: number;
  /** Recipient patterns answered 550 at RCPT TO (globs, or regexes written /…/flags). */
  rejectRecipients?: readonly string[];
  /** How long close() lets open SMTP sessions finish; 1000 ms by default. */
  closeGraceMs?: number;
  /** Defaults to a warn-level logger on stdout. */
  logger?: Logger;
}

export interface SmtpEmulator {
  /** smtp://host:port — what a mail client connects to. */
  readonly url: string;
  /** The SMTP port (same as smtpPort). */
  readonly port: number;
  readonly smtpPort: number;
  readonly httpPort: number;
  /** http://host:port — the listing, JSON API and admin endpoints. */
  readonly httpUrl: string;
  readonly dir: string;
  /** Stored messages, oldest first. */
  messages(filter?: MessageFilter): StoredMessage[];
  message(id: string): StoredMessage | undefined;
  /** The bytes of a message exactly as received. */
  rawMessage(id: string): Promise<Buffer | undefined>;
  /** Resolves once at least `count` messages (matching the filter) are stored; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number, filter?: MessageFilter): Promise<StoredMessage[]>;
  /** The next `count` messages are answered "451 4.3.0 Try again later" after their DATA. */
  failNext(count: number): void;
  /** Replaces the recipient patterns answered "550 5.1.1" at RCPT TO; [] removes them. */
  rejectRecipients(patterns: string | readonly string[]): void;
  /** Stops listening on the SMTP port (clients get ECONNREFUSED) and drops open sessions for `ms`. */
  refuseConnectionsFor(ms: number): void;
  /** Ends a refusal early. */
  acceptConnections(): Promise<void>;
  faults(): FaultState;
  /** Turns every fault off (pending failures, patterns, a refusal). */
  resetFaults(): Promise<void>;
  /** Deletes every stored message; resolves with how many there were. */
  clear(): Promise<number>;
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

function checkPort(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new RangeError(`${name} must be a port number from 0 to 65535, got ${String(value)}`);
  }
  return value;
}

function credentialsFrom(options: SmtpEmulatorOptions): SmtpCredentials | undefined {
  const { user, password } = options;
  if (user === undefined && password === undefined) return undefined;
  if (!user || !password)
    throw new Error("SMTP authentication needs both a user and a password, neither empty");
  return { user, password };
}

interface Settings {
  host: string;
  urlHost: string;
  smtpPort: number;
  httpPort: number;
  maxMessageBytes: number;
  closeGraceMs: number;
  credentials: SmtpCredentials | undefined;
  dir: string;
  ownsDir: boolean;
  logger: Logger;
}

async function openEmulator(settings: Settings, faults: MessageFaults): Promise<SmtpEmulator> {
  const { logger, dir, urlHost } = settings;
  const store = await MessageStore.open(dir, logger);
  const smtp = await startSmtpListener({
    host: settings.host,
    port: settings.smtpPort,
    credentials: settings.credentials,
    maxMessageBytes: settings.maxMessageBytes,
    closeGraceMs: settings.closeGraceMs,
    store,
    faults,
    logger,
  });
  const url = `smtp://${urlHost}:${smtp.port}`;
  const faultControl: FaultControl = {
    state: () => {
      const until = smtp.refusingUntil();
      return { ...faults.snapshot(), refusingConnectionsUntil: until ? until.toISOString() : null };
    },
    failNext: (count) => faults.failNext(count),
    rejectRecipients: (patterns) => faults.rejectRecipients(patterns),
    refuseConnectionsFor: (ms) => smtp.refuseConnectionsFor(ms),
    reset: async () => {
      faults.reset();
      if (smtp.refusingUntil()) await smtp.acceptConnections();
    },
  };
  const http = createHttpApi({ store, faults: faultControl, smtpUrl: url, logger });
  let httpPort: number;
  try {
    httpPort = await listen(http, settings.httpPort, settings.host);
  } catch (error) {
    await smtp.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port: smtp.port,
    smtpPort: smtp.port,
    httpPort,
    httpUrl: `http://${urlHost}:${httpPort}`,
    dir,
    messages: (filter) => store.list(filter),
    message: (id) => store.get(id),
    rawMessage: (id) => store.raw(id),
    waitForMessages: async (count, timeoutMs = 5000, filter) => store.waitFor(count, timeoutMs, filter),
    failNext: (count) => faults.failNext(count),
    rejectRecipients: (patterns) =>
      faults.rejectRecipients(typeof patterns === "string" ? [patterns] : patterns),
    refuseConnectionsFor: (ms) => smtp.refuseConnectionsFor(ms),
    acceptConnections: () => smtp.acceptConnections(),
    faults: () => faultControl.state(),
    resetFaults: () => faultControl.reset(),
    clear: () => store.clear(),
    close() {
      closing ??= (async () => {
        await Promise.all([smtp.close(), closeServer(http)]);
        if (settings.ownsDir) await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** Starts the SMTP catcher: an SMTP server that stores what it receives, and its HTTP side. */
export async function startSmtpEmulator(options: SmtpEmulatorOptions = {}): Promise<SmtpEmulator> {
  const host = options.host ?? "127.0.0.1";
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new RangeError(`maxMessageBytes must be a whole number > 0, got ${String(maxMessageBytes)}`);
  }
  const closeGraceMs = options.closeGraceMs ?? 1000;
  if (!Number.isSafeInteger(closeGraceMs) || closeGraceMs <= 0) {
    throw new RangeError(`closeGraceMs must be a whole number > 0, got ${String(closeGraceMs)}`);
  }
  const faults = new MessageFaults();
  faults.failNext(options.failNext ?? 0);
  faults.rejectRecipients(options.rejectRecipients ?? []);
  const settings: Omit<Settings, "dir" | "ownsDir"> = {
    host,
    // IPv6 literals need brackets in a URL.
    urlHost: host.includes(":") ? `[${host}]` : host,
    smtpPort: checkPort("smtpPort", options.smtpPort ?? 0),
    httpPort: checkPort("httpPort", options.httpPort ?? 0),
    maxMessageBytes,
    closeGraceMs,
    credentials: credentialsFrom(options),
    logger: options.logger ?? createLogger("smtp-emulator", { level: "warn" }),
  };

  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "recfleet-smtp-")));
  try {
    return await openEmulator({ ...settings, dir, ownsDir }, faults);
  } catch (error) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The name the project's issue uses for the same thing. */
export const startSmtpCatcher = startSmtpEmulator;
