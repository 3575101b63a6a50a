import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { createRedisConnection, JobProducer, waitUntilReady } from "@recfleet/queues";
import { RecordingStore } from "@recfleet/recordings";
import {
  freePort,
  type RunningProcess,
  scaled,
  spawnTs,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "@recfleet/testing";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { maskAddress } from "../src/mask.ts";
import { FROM, type SmtpCatcher, seedRecording, startSmtpCatcher } from "./support.ts";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));

let redisServer: TestRedis;
let smtp: SmtpCatcher;
let redis: Redis;
let producerConnection: Redis;
let producer: JobProducer;
let app: RunningProcess | undefined;
const prefix = uniquePrefix("mailer-app");

beforeAll(async () => {
  await Promise.all([
    startRedis().then((started) => {
      redisServer = started;
    }),
    startSmtpCatcher().then((started) => {
      smtp = started;
    }),
  ]);
  const config = { url: redisServer.url, prefix, tls: false, commandTimeoutMs: 2000 };
  redis = createRedisConnection("client", config);
  producerConnection = createRedisConnection("producer", config);
  await Promise.all([waitUntilReady(redis, 10_000), waitUntilReady(producerConnection, 10_000)]);
  producer = new JobProducer(producerConnection, prefix);
});
afterEach(async () => {
  await app?.stop("SIGKILL");
  app = undefined;
});
afterAll(async () => {
  await producer?.close();
  await Promise.all([producerConnection?.quit(), redis?.quit()]);
  await Promise.all([smtp?.stop(), redisServer?.stop()]);
});

function startApp(env: Record<string, string>): RunningProcess {
  app = spawnTs(entry, [], {
    env: {
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      HEALTH_PORT: "0",
      HEALTH_HOST: "127.0.0.1",
      STORAGE_ACCESS_KEY: "minio",
      STORAGE_SECRET_KEY: "minio-secret",
      SMTP_HOST: "127.0.0.1",
      SMTP_FROM: FROM,
      SMTP_TIMEOUT_MS: "5000",
      MAILER_DOWNLOAD_URL_TEMPLATE: "https://meet.example/recordings/{id}",
      ...env,
    },
  });
  return app;
}

async function healthPort(child: RunningProcess): Promise<number> {
  const line = await child.waitForLine(/"msg":"health endpoint listening"/, 20_000);
  return (JSON.parse(line) as { port: number }).port;
}

async function notifiedReason(id: string, timeoutMs = 10_000): Promise<string | undefined> {
  const store = new RecordingStore({ redis, prefix, retentionDays: 30 });
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const recording = await store.get(id);
    if (recording?.status === "notified") return recording.timeline.at(-1)?.reason;
    if (Date.now() > deadline) throw new Error(`recording ${id} still ${recording?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An SMTP server that holds its answer to each message for `delayMs`: an in-flight send to wait for. */
async function startSlowSmtp(delayMs: number) {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffer = "";
    let inData = false;
    socket.write("220 slow.test ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end === -1) return;
          received.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          setTimeout(() => socket.write("250 2.0.0 OK: queued after a pause\r\n"), delayMs);
          continue;
        }
        const newline = buffer.indexOf("\r\n");
        if (newline === -1) return;
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(newline + 2);
        if (verb === "EHLO") socket.write("250-slow.test\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") {
          inData = true;
          socket.write("354 End data with <CR><LF>.<CR><LF>\r\n");
        } else if (verb === "QUIT") socket.end("221 2.0.0 Bye\r\n");
        else if (["HELO", "MAIL", "RCPT", "RSET", "NOOP"].includes(verb)) socket.write("250 2.0.0 OK\r\n");
        else socket.write("502 5.5.2 Command not recognized\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("mailer process", () => {
  it("emails a saved recording, reports SMTP readiness and metrics, and exits 0 on SIGTERM", async () => {
    const child = startApp({ SMTP_PORT: String(smtp.smtpPort) });
    const port = await healthPort(child);
    await child.waitForLine(/"msg":"mailer started"/);
    const to = `owner-${randomBytes(4).toString("hex")}@example.com`;
    const recording = await seedRecording(redis, prefix, { notify: { email: to } });
    await producer.enqueue("recording-saved", { recordingId: recording.id });

    const [caught] = await smtp.waitForMessages(to, 1);
    expect(caught?.subject).toBe('Your recording of "Weekly sync" is ready');
    expect(await notifiedReason(recording.id)).toBe(`emailed to ${maskAddress(to)}`);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: { ok: true }, smtp: { ok: true } } });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^recfleet_mailer_emails_sent_total\{kind="saved",app="mailer"\} 1$/m);

    expect(await child.stop("SIGTERM")).toBe(0);
    expect(child.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });

  it("is not ready while the SMTP server is unreachable", async () => {
    const child = startApp({ SMTP_PORT: String(await freePort()), SMTP_TIMEOUT_MS: "1000" });
    const port = await healthPort(child);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { redis: { ok: true }, smtp: { ok: false } } });
    expect(await child.stop("SIGTERM")).toBe(0);
  });

  it("on SIGTERM, finishes the email in flight and its state change before exiting 0", async () => {
    const slow = await startSlowSmtp(1500);
    try {
      const child = startApp({ SMTP_PORT: String(slow.port) });
      await child.waitForLine(/"msg":"mailer started"/, 20_000);
      const to = `owner-${randomBytes(4).toString("hex")}@example.com`;
      const recording = await seedRecording(redis, prefix, { notify: { email: to } });
      await producer.enqueue("recording-saved", { recordingId: recording.id });
      const deadline = Date.now() + scaled(10_000);
      while (slow.received.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(slow.received).toHaveLength(1);

      expect(await child.stop("SIGTERM")).toBe(0);
      expect(await notifiedReason(recording.id, 1000)).toBe(`emailed to ${maskAddress(to)}`);
      const shuttingDown = child.lines.findIndex((line) => line.includes('"msg":"shutting down"'));
      const accepted = child.lines.findIndex((line) =>
        line.includes('"msg":"email accepted by the SMTP server"'),
      );
      expect(shuttingDown).toBeGreaterThanOrEqual(0);
      expect(accepted).toBeGreaterThan(shuttingDown);
    } finally {
      await slow.close();
    }
  });
});
