// `npm run demo`: drives a running sandbox through its public API, as a user would, and checks
// what arrives: the emails, their download links and the bytes behind them.
import { createHash } from "node:crypto";
import jpeg from "jpeg-js";
import { Client as MinioClient } from "minio";
import { callApi } from "./api-client.ts";
import { NoSandboxError, readInfo, type SandboxInfo } from "./state.ts";

interface RecordingView {
  id: string;
  room: string;
  kind: string;
  profile: string;
  status: string;
  file: { key: string; size: number | null } | null;
  artifacts: { type: string; key: string; count: number | null }[];
  error: { code: string; message: string } | null;
  timeline: { status: string; at: string; reason: string }[];
}

class DemoFailure extends Error {}

function step(message: string): void {
  process.stdout.write(`• ${message}\n`);
}

async function api<T>(info: SandboxInfo, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await callApi<T>(info, method, path, body);
  if (answer.status >= 400)
    throw new DemoFailure(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function waitFor(
  info: SandboxInfo,
  id: string,
  wanted: string,
  timeoutMs: number,
): Promise<RecordingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const recording = await api<RecordingView>(info, "GET", `/v1/recordings/${id}`);
    if (recording.status === wanted) return recording;
    if (["failed", "cancelled"].includes(recording.status) || Date.now() > deadline) {
      throw new DemoFailure(
        `recording ${id} is ${recording.status}${recording.error ? ` (${recording.error.code}: ${recording.error.message})` : ""}, expected ${wanted}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface MailEntry {
  id: string;
  subject: string;
  messageId: string | null;
}

async function findEmail(
  info: SandboxInfo,
  recordingId: string,
): Promise<{ entry: MailEntry; text: string }> {
  const list = (await (await fetch(`${info.mailUrl}api/messages`)).json()) as { messages: MailEntry[] };
  const entry = list.messages.find((message) => message.messageId?.includes(recordingId));
  if (!entry) throw new DemoFailure(`no email about recording ${recordingId} in the mail catcher`);
  const text = await (await fetch(`${info.mailUrl}messages/${entry.id}/text`)).text();
  return { entry, text };
}

/** Plays a LiveKit client in the sandbox's LiveKit emulator (its admin endpoint). */
/** The one recording of a room, once there is one (an auto-record rule makes it). */
async function recordingOfRoom(info: SandboxInfo, room: string, timeoutMs: number): Promise<RecordingView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await api<{ items: RecordingView[] }>(
      info,
      "GET",
      `/v1/recordings?room=${encodeURIComponent(room)}`,
    );
    if (page.items.length > 1)
      throw new DemoFailure(`room ${room} has ${page.items.length} recordings, not one`);
    if (page.items[0]) return page.items[0];
    if (Date.now() > deadline) throw new DemoFailure(`no recording of room ${room} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function livekit(info: SandboxInfo, path: string, body: unknown, method = "POST"): Promise<void> {
  const answer = await fetch(`${info.livekit.url}/_admin${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(method === "POST" ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  if (!answer.ok)
    throw new DemoFailure(`LiveKit emulator ${path} answered ${answer.status}: ${await answer.text()}`);
}

/** Reads the guest's HLS back from storage: the closed playlist, each segment, each JPEG. */
async function showHls(minio: MinioClient, info: SandboxInfo, recording: RecordingView): Promise<void> {
  const read = async (key: string) =>
    Buffer.concat(await (await minio.getObject(info.s3.bucket, key)).toArray());
  const playlist = recording.artifacts.find((artifact) => artifact.type === "playlist");
  const images = recording.artifacts.find((artifact) => artifact.type === "images");
  if (!playlist || !images) throw new DemoFailure(`recording ${recording.id} lists no playlist or images`);
  const text = (await read(playlist.key)).toString("utf8");
  if (!text.includes("#EXT-X-ENDLIST")) throw new DemoFailure(`${playlist.key} is not closed`);
  const dir = playlist.key.slice(0, playlist.key.lastIndexOf("/") + 1);
  const segments = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  let bytes = 0;
  for (const name of segments) bytes += (await minio.statObject(info.s3.bucket, `${dir}${name}`)).size;
  const thumbnails: string[] = [];
  for await (const item of minio.listObjectsV2(info.s3.bucket, `${dir}img_`, true)) {
    if (item.name) thumbnails.push(item.name);
  }
  const sizes = new Set<string>();
  for (const key of thumbnails) {
    const image = jpeg.decode(await read(key));
    sizes.add(`${image.width}×${image.height}`);
  }
  process.stdout.write(
    `  hls: ${playlist.key} closed, ${segments.length} segments all in storage (${bytes} bytes)\n` +
      `  thumbnails: ${thumbnails.length} JPEGs (${[...sizes].join(", ")}) under ${dir}, listed in ${images.key}\n`,
  );
}

async function main(): Promise<void> {
  const info = readInfo(process.env);
  const stamp = new Date().toISOString().slice(11, 19).replaceAll(":", "");
  const room = `demo-${stamp}`;
  const quiet = `demo-quiet-${stamp}`;
  if (info.livekit.autoRoom) {
    step(
      `starting a video recording (profile balanced) and an audio-only one (profile low-cpu) of room ${room}, which opens only after the request`,
    );
  } else {
    step(
      `starting a video recording (profile balanced) and an audio-only one (profile low-cpu) of room ${room}; the room opens 2 s later`,
    );
    setTimeout(() => {
      void livekit(info, `/rooms/${room}/participants`, {
        identity: "demo-speaker",
        publish: ["microphone", "camera"],
      });
    }, 2000);
  }
  const video = await api<RecordingView>(info, "POST", "/v1/recordings", {
    room,
    kind: "video",
    profile: "balanced",
    notify: { email: "demo@example.com" },
  });
  const audio = await api<RecordingView>(info, "POST", "/v1/recordings", {
    room,
    kind: "audio",
    profile: "low-cpu",
    notify: { email: "demo@example.com", locale: "fr" },
  });
  step(`starting a video recording of room ${quiet}, where someone is present but shares nothing yet`);
  await livekit(info, `/rooms/${quiet}/participants`, { identity: "late-presenter" });
  const late = await api<RecordingView>(info, "POST", "/v1/recordings", {
    room: quiet,
    kind: "video",
    profile: "low-cpu",
    notify: { email: "demo@example.com" },
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const stillWaiting = await api<RecordingView>(info, "GET", `/v1/recordings/${late.id}`);
  if (stillWaiting.status !== "starting") {
    throw new DemoFailure(`the recording of ${quiet} is ${stillWaiting.status} before anyone published`);
  }
  step("nobody published for 2 s: that recording is still starting; now the presenter shares a screen");
  await livekit(info, `/rooms/${quiet}/participants/late-presenter/tracks`, { source: "screen_share" });
  for (const recording of [video, audio, late]) await waitFor(info, recording.id, "active", 30_000);
  step(
    `a guest joins ${room}: recording just her, as HLS (2 s segments, a live playlist) and a thumbnail a second`,
  );
  await livekit(info, `/rooms/${room}/participants`, {
    identity: "demo-guest",
    publish: ["microphone", "camera"],
  });
  const guest = await api<RecordingView>(info, "POST", "/v1/recordings", {
    room,
    source: { type: "participant", identity: "demo-guest" },
    outputs: [
      { type: "hls", segmentSeconds: 2, livePlaylist: true },
      { type: "images", intervalSeconds: 1, width: 320, height: 180 },
    ],
    profile: "low-cpu",
    notify: { email: "demo@example.com" },
  });
  await waitFor(info, guest.id, "active", 40_000);
  const liveRoom = `demo-live-${stamp}`;
  const streamKey = `demo-key-${stamp}-secret`;
  step(
    `streaming room ${liveRoom} live to the sandbox's RTMP ingest (${info.rtmpIngestUrl}/<key>); the key is a secret and is shown redacted`,
  );
  await livekit(info, `/rooms/${liveRoom}/participants`, {
    identity: "demo-host",
    publish: ["microphone", "camera"],
  });
  const live = await api<RecordingView & { outputs: { type: string; urls?: string[] }[] }>(
    info,
    "POST",
    "/v1/recordings",
    {
      room: liveRoom,
      outputs: [{ type: "stream", urls: [`${info.rtmpIngestUrl}/${streamKey}`] }],
      profile: "low-cpu",
      notify: { email: "demo@example.com" },
    },
  );
  await waitFor(info, live.id, "active", 30_000);
  const autoRoom = `auto-${stamp}`;
  step(`opening room ${autoRoom}: nobody asks to record it, the sandbox's auto-record rule (auto-*) does`);
  await livekit(info, `/rooms/${autoRoom}/participants`, {
    identity: "demo-teacher",
    publish: ["microphone", "camera"],
  });
  const auto = await recordingOfRoom(info, autoRoom, 30_000);
  await waitFor(info, auto.id, "active", 30_000);
  const all = [video, audio, late, guest];
  step("all six are recording; letting them run for 3 seconds");
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const ingested = (await (await fetch(`${info.livekit.url}/_admin/rtmp`)).json()) as {
    streams: { keyHint: string; mediaMessages: number; mediaBytes: number; endedAt: string | null }[];
  };
  const received = ingested.streams.find(
    (stream) => stream.keyHint === `${streamKey.slice(0, 3)}…${streamKey.slice(-3)}`,
  );
  if (!received || received.mediaMessages === 0) throw new DemoFailure("the RTMP ingest received no media");
  for (const recording of [...all, live]) await api(info, "POST", `/v1/recordings/${recording.id}/stop`);
  step(`stopped; room ${autoRoom} closes, and its recording ends with it; waiting for the emails`);
  await livekit(info, `/rooms/${autoRoom}`, undefined, "DELETE");
  all.push(auto);
  const minio = new MinioClient({
    endPoint: info.s3.endpoint,
    port: info.s3.port,
    useSSL: false,
    accessKey: info.s3.accessKey,
    secretKey: info.s3.secretKey,
    region: "us-east-1",
  });
  for (const started of all) {
    const recording = await waitFor(info, started.id, "notified", 60_000);
    const { entry, text } = await findEmail(info, recording.id);
    const link = /https?:\/\/\S+/.exec(text.slice(text.indexOf("http")))?.[0];
    if (!link) throw new DemoFailure(`the email "${entry.subject}" has no link`);
    process.stdout.write(
      `\n  ${recording.kind} recording ${recording.id}\n  email: ${entry.subject}\n  link:  ${link}\n`,
    );
    const download = await fetch(link, { signal: AbortSignal.timeout(10_000) });
    if (!download.ok) throw new DemoFailure(`downloading ${link} answered ${download.status}`);
    const bytes = Buffer.from(await download.arrayBuffer());
    const key = recording.file?.key ?? "";
    const stored = Buffer.concat(await (await minio.getObject(info.s3.bucket, key)).toArray());
    const digest = (data: Buffer) => createHash("sha256").update(data).digest("hex").slice(0, 16);
    if (!bytes.equals(stored)) {
      throw new DemoFailure(
        `the link's ${bytes.length} bytes differ from the stored object ${key} (${stored.length} bytes)`,
      );
    }
    process.stdout.write(
      `  download: ${bytes.length} bytes, identical to ${key} (sha256 ${digest(bytes)}…)\n  timeline:\n`,
    );
    for (const entry of recording.timeline) {
      process.stdout.write(`    ${entry.at.slice(11, 23)}  ${entry.status.padEnd(9)} ${entry.reason}\n`);
    }
    if (recording.id === guest.id) await showHls(minio, info, recording);
  }
  const streamed = await waitFor(info, live.id, "notified", 60_000);
  const { entry: ended, text: endedText } = await findEmail(info, live.id);
  if (!endedText.includes(live.outputs[0]?.urls?.[0] ?? "?") || endedText.includes(streamKey)) {
    throw new DemoFailure(`the stream-ended email does not list the redacted URL:\n${endedText}`);
  }
  process.stdout.write(
    `\n  live stream ${streamed.id} to ${live.outputs[0]?.urls?.[0]}\n` +
      `  the ingest received ${received.mediaMessages} media messages (${received.mediaBytes} bytes) under key ${received.keyHint}\n` +
      `  nothing stored (status ${streamed.status}, no file); email: ${ended.subject}\n  timeline:\n`,
  );
  for (const entry of streamed.timeline) {
    process.stdout.write(`    ${entry.at.slice(11, 23)}  ${entry.status.padEnd(9)} ${entry.reason}\n`);
  }
  process.stdout.write(
    "\ndemo passed: all six recordings (a room that opened after the request, a presenter who shared late, one participant as HLS with thumbnails, a live stream to RTMP, a room that recorded itself) were made and their owners emailed; every file was stored and downloaded.\n",
  );
}

main().catch((error: unknown) => {
  const where =
    error instanceof DemoFailure || error instanceof NoSandboxError
      ? error.message
      : ((error as Error).stack ?? String(error));
  process.stderr.write(`\ndemo failed: ${where}\n`);
  process.exit(1);
});
