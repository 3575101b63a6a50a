import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@recfleet/runtime";
import { scaled } from "@recfleet/testing";
import { Client as MinioClient } from "minio";

import { callApi } from "./api-client.ts";
import { type FleetOptions, planFleet } from "./fleet.ts";
import { createLineFormatter } from "./log-format.ts";
import { prepareState, type SandboxInfo } from "./state.ts";
import { Supervisor } from "./supervisor.ts";

export interface RecordingView {
  id: string;
  room: string;
  kind: "video" | "audio";
  /** null for a track recording: no encoding applies. */
  profile: string | null;
  status: string;
  egressId: string | null;
  file: { key: string; size: number | null } | null;
  artifacts: { type: string; bucket: string; key: string; size: number | null; count: number | null }[];
  error: { code: string; message: string } | null;
  timeline: { status: string; at: string; reason: string }[];
}

export interface MailEntry {
  id: string;
  subject: string;
  messageId: string | null;
  to: { address: string }[];
}

/**
 * The sandbox's processes, started by its own plan and supervisor: the fleet that end-to-end
 * tests, benchmarks and fault-injection runs drive through the public API.
 */
export interface TestFleet {
  info: SandboxInfo;
  supervisor: Supervisor;
  output: string[];
  minio: MinioClient;
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  waitFor(id: string, status: string, timeoutMs?: number): Promise<RecordingView>;
  mails(): Promise<MailEntry[]>;
  mailText(id: string): Promise<string>;
  /** The LiveKit emulator's admin endpoint: GET without a body, POST with one, or `method`. */
  livekitAdmin<T>(path: string, body?: unknown, method?: string): Promise<T>;
  /**
   * Opens a room in the LiveKit emulator with one participant, as a meeting under way: it
   * publishes a camera and a microphone unless `publish` is false (nobody shares anything yet).
   */
  openRoom(room: string, options?: { identity?: string; publish?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface TestFleetOptions extends Pick<FleetOptions, "replicas" | "emulatorArgs"> {
  /** Rooms open by themselves, as in `npm start` (default false: a room must be opened, as in LiveKit). */
  autoRoom?: boolean;
  /** Extra env for every process (e.g. shorter reconciler timings). */
  env?: Record<string, string>;
  /** Use this Redis instead of starting one. */
  redisUrl?: string;
}

export async function startTestFleet(options: TestFleetOptions = {}): Promise<TestFleet> {
  const env = options.env ?? {};
  const state = prepareState({ SANDBOX_DIR: mkdtempSync(join(tmpdir(), "recfleet-e2e-")) }, true);
  const apiKey = "e2e-api-key-0123456789";
  const plan = await planFleet({
    state,
    apiPort: await freePort(),
    apiKeys: apiKey,
    apiKey,
    secrets: { livekit: "e2e-livekit-secret-0123456789", s3: "e2e-s3-secret", dashboard: "e2e-dashboard" },
    logLevel: process.env.LOG_LEVEL ?? "info",
    autoRoom: options.autoRoom ?? false,
    ...(options.replicas ? { replicas: options.replicas } : {}),
    ...(options.emulatorArgs ? { emulatorArgs: options.emulatorArgs } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
  });
  for (const spec of plan.specs) spec.env = { ...spec.env, ...env };
  const output: string[] = [];
  const supervisor = new Supervisor({
    logsDir: state.logs,
    print: (line) => {
      output.push(line);
      if (process.env.E2E_ECHO) process.stderr.write(`${line}\n`);
    },
    format: createLineFormatter(
      plan.specs.map((spec) => spec.name),
      false,
    ),
  });
  try {
    for (const spec of plan.specs) await supervisor.start(spec);
  } catch (error) {
    await supervisor.stopAll();
    throw new Error(`${(error as Error).message}\n${output.slice(-40).join("\n")}`);
  }
  const { info } = plan;
  const api = <T>(method: string, path: string, body?: unknown) => callApi<T>(info, method, path, body);
  const waitFor = async (id: string, status: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + scaled(timeoutMs);
    for (;;) {
      const { body } = await api<RecordingView>("GET", `/v1/recordings/${id}`);
      if (body.status === status) return body;
      if (Date.now() > deadline) {
        throw new Error(
          `recording ${id} is ${body.status} (timeline: ${JSON.stringify(body.timeline)}), expected ${status}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const livekitAdmin = async <T>(
    path: string,
    body?: unknown,
    method = body === undefined ? "GET" : "POST",
  ) => {
    const response = await fetch(`${info.livekitUrl}/_admin${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!response.ok)
      throw new Error(`LiveKit emulator ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    info,
    supervisor,
    output,
    minio: new MinioClient({
      endPoint: info.s3.endpoint,
      port: info.s3.port,
      useSSL: false,
      accessKey: info.s3.accessKey,
      secretKey: info.s3.secretKey,
      region: "us-east-1",
    }),
    api,
    waitFor,
    mails: async () =>
      ((await (await fetch(`${info.mailUrl}api/messages`)).json()) as { messages: MailEntry[] }).messages,
    mailText: async (id) => (await fetch(`${info.mailUrl}messages/${id}/text`)).text(),
    livekitAdmin,
    openRoom: async (room, { identity = "speaker", publish = true } = {}) => {
      await livekitAdmin(`/rooms/${encodeURIComponent(room)}/participants`, {
        identity,
        publish: publish ? ["camera", "microphone"] : [],
      });
    },
    stop: () => supervisor.stopAll(),
  };
}
