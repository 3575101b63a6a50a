// A tenant's callback endpoint for tests: verifies every request with the standardwebhooks
// package, as docs/api.md tells consumers to, and answers what the test scripts.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { scaled } from "./time.ts";

export interface ReceivedCall {
  webhookId: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The verified payload; undefined when the signature did not verify. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | undefined;
  /** The status this receiver answered. */
  answered: number;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Receiver {
  url: string;
  port: number;
  calls: ReceivedCall[];
  /** Calls answered 2xx, i.e. what the consumer accepted. */
  accepted(): ReceivedCall[];
  waitFor(condition: (calls: ReceivedCall[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `answer` gets the webhook-id and how many calls with it came before this one. */
export async function startReceiver(
  secret: string,
  answer: (webhookId: string, earlierCalls: number) => Answer = () => ({ status: 204 }),
): Promise<Receiver> {
  const webhook = new Webhook(secret);
  const calls: ReceivedCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const webhookId = String(request.headers["webhook-id"] ?? "");
      let payload: ReceivedCall["payload"];
      try {
        payload = webhook.verify(body, request.headers as Record<string, string>) as ReceivedCall["payload"];
      } catch {
        payload = undefined;
      }
      const earlier = calls.filter((call) => call.webhookId === webhookId).length;
      const scripted = payload ? answer(webhookId, earlier) : { status: 400, body: "bad signature" };
      calls.push({
        webhookId,
        headers: request.headers,
        body,
        payload,
        answered: scripted.status,
        at: Date.now(),
      });
      response.writeHead(scripted.status, scripted.headers ?? {});
      response.end(scripted.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/recfleet`,
    port,
    calls,
    accepted: () => calls.filter((call) => call.answered >= 200 && call.answered < 300),
    async waitFor(condition, what, timeoutMs = 30_000) {
      const deadline = Date.now() + scaled(timeoutMs);
      while (!condition(calls)) {
        if (Date.now() > deadline)
          throw new Error(`receiver: ${what} not seen within ${timeoutMs} ms (${calls.length} calls)`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Standard Webhooks secret: whsec_ and the base64 of 32 bytes. */
export function secretOf(seed: number): string {
  return `whsec_${Buffer.alloc(32, seed).toString("base64")}`;
}
