import { createTransport } from "nodemailer";

export interface SendOptions {
  port: number;
  auth?: { user: string; pass: string };
}

/** A plain nodemailer SMTP transport as the mailer would build one, with short test timeouts. */
export function transportFor(options: SendOptions) {
  return createTransport({
    host: "127.0.0.1",
    port: options.port,
    secure: false,
    ignoreTLS: true,
    auth: options.auth,
    connectionTimeout: 3000,
    greetingTimeout: 3000,
    socketTimeout: 5000,
  });
}

export interface SendError extends Error {
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
}

/** The error a send failed with (nodemailer's errors carry code, responseCode, permanent). */
export async function sendFailure(send: Promise<unknown>): Promise<SendError> {
  try {
    await send;
  } catch (error) {
    return error as SendError;
  }
  throw new Error("the send was expected to fail but was accepted");
}
