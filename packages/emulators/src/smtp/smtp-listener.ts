import { createHash, timingSafeEqual } from "node:crypto";
import type { Server, Socket } from "node:net";
import type { Logger } from "@recfleet/runtime";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from "smtp-server";
import type { MessageFaults } from "./faults.ts";
import type { MessageStore } from "./message-store.ts";

export interface SmtpCredentials {
  user: string;
  password: string;
}

export interface SmtpListenerOptions {
  host: string;
  port: number;
  /** With credentials every sender must AUTH first; without, AUTH is optional and accepts anyone. */
  credentials?: SmtpCredentials;
  maxMessageBytes: number;
  /** How long close() lets open sessions finish before answering them 421. */
  closeGraceMs: number;
  store: MessageStore;
  faults: MessageFaults;
  logger: Logger;
}

export interface SmtpListener {
  readonly port: number;
  /** Stops listening and drops open connections; listens again on the same port after `ms`. */
  refuseConnectionsFor(ms: number): void;
  /** Ends a refusal now; resolves once the port accepts connections again. */
  acceptConnections(): Promise<void>;
  /** When the current refusal ends, or null when connections are accepted. */
  refusingUntil(): Date | null;
  close(): Promise<void>;
}

interface SmtpReplyError extends Error {
  responseCode: number;
}

/** smtp-server answers a handler's error with its responseCode and message. */
function reply(code: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode: code });
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

const RELISTEN_ATTEMPTS = 50;
const RELISTEN_DELAY_MS = 100;

export async function startSmtpListener(options: SmtpListenerOptions): Promise<SmtpListener> {
  const { store, faults, logger, credentials } = options;

  const onAuth = (
    auth: SMTPServerAuthentication,
    _session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: { user: string }) => void,
  ) => {
    const username = auth.username ?? "";
    if (!credentials) return callback(null, { user: username });
    const valid =
      sameSecret(username, credentials.user) && sameSecret(auth.password ?? "", credentials.password);
    if (!valid) {
      logger.warn({ user: username, method: auth.method }, "smtp authentication failed");
      return callback(reply(535, "5.7.8 Authentication credentials invalid"));
    }
    callback(null, { user: username });
  };

  const onRcptTo = (
    address: { address: string },
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ) => {
    if (faults.isRejected(address.address)) {
      logger.info({ session: session.id, recipient: address.address }, "recipient rejected by pattern");
      return callback(reply(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
    }
    callback();
  };

  const onData = (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ) => {
    const chunks: Buffer[] = [];
    // Past the limit the rest is read and dropped: the client still has to be answered.
    stream.on("data", (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.once("end", () => {
      if (stream.sizeExceeded) {
        logger.info({ session: session.id, limit: options.maxMessageBytes }, "message over the size limit");
        return callback(
          reply(552, `5.3.4 Message size exceeds fixed limit of ${options.maxMessageBytes} bytes`),
        );
      }
      if (faults.takeTransientFailure()) {
        logger.info({ session: session.id }, "message answered 451 (failNext)");
        return callback(reply(451, "4.3.0 Try again later"));
      }
      const mailFrom = session.envelope.mailFrom;
      const envelope = {
        from: mailFrom ? mailFrom.address : "",
        to: session.envelope.rcptTo.map((recipient) => recipient.address),
      };
      const user: unknown = session.user;
      store
        .add(Buffer.concat(chunks), envelope, {
          authUser: typeof user === "string" ? user : null,
          remoteAddress: session.remoteAddress,
        })
        .then(
          (message) => {
            logger.info(
              {
                id: message.id,
                from: envelope.from,
                to: envelope.to,
                size: message.size,
                subject: message.subject,
              },
              "message received",
            );
            callback(null, `2.0.0 OK: queued as ${message.id}`);
          },
          (error: unknown) => {
            logger.error({ err: error, session: session.id }, "could not store a message");
            callback(reply(451, "4.3.0 Local error in processing"));
          },
        );
    });
  };

  const smtp = new SMTPServer({
    banner: "recfleet SMTP emulator",
    logger: false,
    disableReverseLookup: true,
    // Local use only: no TLS, so AUTH must work over plain TCP.
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: !credentials,
    authRequiredMessage: "5.7.0 Authentication required",
    size: options.maxMessageBytes,
    rejectOversized: true,
    closeTimeout: options.closeGraceMs,
    onAuth,
    onRcptTo,
    onData,
  });
  // Client resets and the like surface here; without a listener they would crash the process.
  // A failure of the first listen is thrown to the caller instead of being logged twice.
  let started = false;
  smtp.on("error", (error: Error) => {
    if (started) logger.warn({ err: error }, "smtp server error");
  });

  const server = smtp.server;
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  const port = await listenOn(server, options.port, options.host);
  started = true;
  let closed = false;
  let reopenAt: Date | null = null;
  let reopenTimer: NodeJS.Timeout | undefined;

  const relisten = async (): Promise<void> => {
    for (let attempt = 1; !closed && !server.listening; attempt += 1) {
      try {
        await listenOn(server, port, options.host);
        logger.info({ port }, "smtp accepting connections again");
      } catch (error) {
        // Another process may hold the port for a moment; give up only after a few seconds.
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= RELISTEN_ATTEMPTS) {
          logger.error({ err: error, port }, "smtp could not listen again");
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, RELISTEN_DELAY_MS));
      }
    }
  };

  const acceptConnections = async (): Promise<void> => {
    clearTimeout(reopenTimer);
    reopenTimer = undefined;
    reopenAt = null;
    await relisten();
  };

  return {
    port,
    refuseConnectionsFor(ms) {
      if (!Number.isSafeInteger(ms) || ms <= 0) {
        throw new RangeError(
          `refuseConnectionsFor needs a whole number of milliseconds > 0, got ${String(ms)}`,
        );
      }
      if (closed) throw new Error("the SMTP emulator is closed");
      clearTimeout(reopenTimer);
      if (server.listening) server.close();
      for (const socket of sockets) socket.destroy();
      reopenAt = new Date(Date.now() + ms);
      logger.info({ ms, until: reopenAt.toISOString() }, "smtp refusing connections");
      reopenTimer = setTimeout(() => {
        acceptConnections().catch(() => {
          // relisten() has logged it; the emulator keeps serving HTTP so the failure is visible.
        });
      }, ms);
    },
    acceptConnections,
    refusingUntil: () => reopenAt,
    close() {
      closed = true;
      clearTimeout(reopenTimer);
      reopenAt = null;
      return new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
