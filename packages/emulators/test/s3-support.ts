// Shared by the S3 emulator tests: a running emulator with a real minio-js client, and readers
// for listen streams (through minio-js and through a raw presigned fetch).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { scaled } from "@recfleet/testing";
import { Client, type ClientOptions } from "minio";
import { type S3Emulator, type S3EmulatorOptions, startS3Emulator } from "../src/s3/index.ts";

export interface TestS3 {
  emulator: S3Emulator;
  client: Client;
  dataDir: string;
  clientWith(overrides?: Partial<ClientOptions>): Client;
  close(): Promise<void>;
}

export async function startTestS3(options: S3EmulatorOptions = {}): Promise<TestS3> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "s3-emulator-test-")));
  const emulator = await startS3Emulator({ ...options, dataDir });
  const clientWith = (overrides: Partial<ClientOptions> = {}) =>
    new Client({
      endPoint: "127.0.0.1",
      port: emulator.port,
      useSSL: false,
      accessKey: emulator.accessKey,
      secretKey: emulator.secretKey,
      region: emulator.region,
      ...overrides,
    });
  return {
    emulator,
    client: clientWith(),
    dataDir,
    clientWith,
    async close() {
      await emulator.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Resolves when `check` returns a value other than undefined; rejects after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface NotificationRecord {
  eventName: string;
  awsRegion: string;
  s3: {
    bucket: { name: string; arn: string };
    object: {
      key: string;
      size?: number;
      eTag?: string;
      contentType?: string;
      userMetadata?: Record<string, string>;
      sequencer: string;
    };
  };
  [field: string]: unknown;
}

/** A minio-js listenBucketNotification, with what it emitted collected. */
export interface CollectedListener {
  records: NotificationRecord[];
  errors: Error[];
  stop(): void;
}

export function collectNotifications(
  client: Client,
  bucket: string,
  events: string[],
  prefix = "",
  suffix = "",
): CollectedListener {
  const poller = client.listenBucketNotification(bucket, prefix, suffix, events);
  const collected: CollectedListener = {
    records: [],
    errors: [],
    stop: () => poller.stop(),
  };
  poller.on("notification", (record) => collected.records.push(record as NotificationRecord));
  poller.on("error", (error) => collected.errors.push(error as Error));
  return collected;
}

/** A listen stream read with fetch from a presigned URL, as raw text. */
export interface RawStream {
  status: number;
  contentType: string | null;
  text(): string;
  /** Resolves once the stream has ended (cleanly or not). */
  ended: Promise<"end" | "error">;
  abort(): void;
}

export async function openRawListen(
  client: Client,
  bucket: string,
  params: Record<string, string>,
): Promise<RawStream> {
  const url = await client.presignedUrl("GET", bucket, "", 60, params);
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  let received = "";
  const body = response.body;
  const decoder = new TextDecoder();
  const ended = (async (): Promise<"end" | "error"> => {
    if (!body) return "end";
    try {
      for await (const chunk of body) received += decoder.decode(chunk, { stream: true });
      return "end";
    } catch {
      return "error";
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text: () => received,
    ended,
    abort: () => controller.abort(),
  };
}
