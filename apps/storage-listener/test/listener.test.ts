import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@recfleet/config";
import { createRedisConnection, QUEUE, waitUntilReady } from "@recfleet/queues";
import { type Recording, RecordingStore } from "@recfleet/recordings";
import { createLogger } from "@recfleet/runtime";
import {
  type RunningProcess,
  scaled,
  spawnTs,
  startRedis,
  type TestRedis,
  uniquePrefix,
} from "@recfleet/testing";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Client as MinioClient } from "minio";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const listenerMain = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const s3Cli = fileURLToPath(new URL("../../../packages/emulators/src/s3/cli.ts", import.meta.url));
const ACCESS_KEY = "listener-test";
const SECRET_KEY = "listener-test-secret";
const BUCKET = "recordings";
const logger = createLogger("test", { level: "silent" });

let redis: TestRedis;
let s3: { process: RunningProcess; port: number; dataDir: string };
const processes: RunningProcess[] = [];

async function startS3(port = 0, dataDir = mkdtempSync(join(tmpdir(), "recfleet-s3-"))) {
  const process = spawnTs(
    s3Cli,
    [`--port=${port}`, `--data-dir=${dataDir}`, `--access-key=${ACCESS_KEY}`, `--bucket=${BUCKET}`],
    { env: { MINIO_ROOT_PASSWORD: SECRET_KEY } },
  );
  const line = await process.waitForLine(/s3 emulator listening/);
  return { process, port: (JSON.parse(line) as { port: number }).port, dataDir };
}

beforeAll(async () => {
  redis = await startRedis();
  s3 = await startS3();
});
afterEach(async () => {
  while (processes.length > 0) await processes.pop()?.stop("SIGTERM");
});
afterAll(async () => {
  await s3?.process.stop();
  await redis?.stop();
});

interface Fleet {
  prefix: string;
  store: RecordingStore;
  client: Redis;
  minio: MinioClient;
  notifications: Queue;
  listeners: RunningProcess[];
  /** Starts one more listener replica with the fleet's settings, once it has re-scanned. */
  addListener(): Promise<RunningProcess>;
  close(): Promise<void>;
}

async function startFleet(replicas: number, extraEnv: Record<string, string> = {}): Promise<Fleet> {
  const prefix = uniquePrefix();
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    STORAGE_ENDPOINT: "127.0.0.1",
    STORAGE_PORT: String(s3.port),
    STORAGE_ACCESS_KEY: ACCESS_KEY,
    STORAGE_SECRET_KEY: SECRET_KEY,
    STORAGE_BUCKET: BUCKET,
    STORAGE_PREFIX: `rec-${prefix}`,
    HEALTH_PORT: "0",
    ...extraEnv,
  };
  const config = loadConfig(["redis"], env);
  const client = createRedisConnection("client", config.redis, logger);
  await waitUntilReady(client, 5000);
  const listeners = Array.from({ length: replicas }, () => spawnTs(listenerMain, [], { env }));
  processes.push(...listeners);
  for (const listener of listeners) await listener.waitForLine(/bucket re-scan done/, 20_000);
  const minio = new MinioClient({
    endPoint: "127.0.0.1",
    port: s3.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: "us-east-1",
  });
  const notifications = new Queue(QUEUE.notifications, { connection: { url: redis.url }, prefix });
  return {
    prefix,
    store: new RecordingStore({ redis: client, prefix, retentionDays: 1 }),
    client,
    minio,
    notifications,
    listeners,
    addListener: async () => {
      const listener = spawnTs(listenerMain, [], { env });
      processes.push(listener);
      listeners.push(listener);
      return listener;
    },
    close: async () => {
      await notifications.close();
      client.disconnect();
    },
  };
}

/**
 * A recording a recorder started (its output planned under STORAGE_PREFIX, and the egress
 * storage prefix when one is set), moved on to `status`.
 */
async function recordingIn(
  fleet: Fleet,
  status: "active" | "stopped",
  { kind = "video", egressPrefix = "" }: { kind?: Recording["kind"]; egressPrefix?: string } = {},
): Promise<Recording> {
  const created = await fleet.store.create({
    room: `room-${uniquePrefix()}`,
    kind,
    profile: "low-cpu",
    layout: "speaker",
    notify: { email: "owner@example.com" },
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error("not created");
  const { id } = created.recording;
  const filepath = `rec-${fleet.prefix}/${id}.${kind === "audio" ? "ogg" : "mp4"}`;
  await fleet.store.transition(id, "starting", {
    reason: "t",
    output: {
      bucket: BUCKET,
      file: {
        filepath,
        key: egressPrefix === "" ? filepath : `${egressPrefix}/${filepath}`,
        contentType: kind === "audio" ? "audio/ogg" : "video/mp4",
        backup: null,
      },
      hls: null,
      images: null,
    },
  });
  const active = await fleet.store.transition(id, "active", { reason: "t", egressId: `EG_${id.slice(-8)}` });
  if (!active.ok) throw new Error("not active");
  if (status === "active") return active.recording;
  const stopped = await fleet.store.transition(id, "stopped", { reason: "t" });
  if (!stopped.ok) throw new Error("not stopped");
  return stopped.recording;
}

function stoppedRecording(fleet: Fleet, kind: Recording["kind"] = "video"): Promise<Recording> {
  return recordingIn(fleet, "stopped", { kind });
}

function keyOf(recording: Recording): string {
  if (!recording.output?.file) throw new Error("no file planned");
  return recording.output.file.key;
}

async function putFile(fleet: Fleet, key: string, bytes = 1024, contentType?: string): Promise<void> {
  await fleet.minio.putObject(BUCKET, key, Buffer.alloc(bytes, 7), bytes, {
    "Content-Type":
      contentType ??
      (key.endsWith(".ogg") ? "audio/ogg" : key.endsWith(".json") ? "application/json" : "video/mp4"),
  });
}

/** The control queue's jobs once there is one (the late-file jobs a listener queues). */
async function controlJobs(fleet: Fleet): Promise<[string, unknown][]> {
  const control = new Queue(QUEUE.control, { connection: { url: redis.url }, prefix: fleet.prefix });
  try {
    const deadline = Date.now() + scaled(10_000);
    let jobs = await control.getJobs(["waiting", "delayed", "active"]);
    while (jobs.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      jobs = await control.getJobs(["waiting", "delayed", "active"]);
    }
    return jobs.map((job) => [job.name, job.data]);
  } finally {
    await control.close();
  }
}

/** Resolves once a listener logged that it ignored an object for this reason (the nth time). */
function ignoredFor(fleet: Fleet, reason: string, nth = 1): Promise<string> | undefined {
  let seen = 0;
  return fleet.listeners[0]?.waitForLine(
    (line) => line.includes(`an object named like a recording file was ignored: ${reason}`) && ++seen === nth,
    20_000,
  );
}

async function waitForSaved(fleet: Fleet, ids: string[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const statuses = await Promise.all(ids.map(async (id) => (await fleet.store.get(id))?.status));
    if (statuses.every((status) => status === "saved")) return;
    if (Date.now() > deadline)
      throw new Error(
        `not all saved: ${statuses.filter((s) => s !== "saved").length} of ${ids.length} missing`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The notification job ids, once `count` of them exist (the job follows the move to saved). */
async function savedJobs(fleet: Fleet, count: number): Promise<string[]> {
  const deadline = Date.now() + scaled(10_000);
  for (;;) {
    const jobs = await fleet.notifications.getJobs(["waiting", "delayed", "active", "completed", "failed"]);
    if (jobs.length >= count || Date.now() > deadline) return jobs.map((job) => job.id ?? "");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("storage listener", () => {
  it("saves a recording when its file lands, queues exactly one email, and ignores other objects", async () => {
    const fleet = await startFleet(1);
    const video = await stoppedRecording(fleet);
    const audio = await stoppedRecording(fleet, "audio");
    await putFile(fleet, keyOf(video), 4096);
    await putFile(fleet, keyOf(audio));
    await putFile(fleet, `rec-${fleet.prefix}/${video.id}.webm`);
    await putFile(fleet, `rec-${fleet.prefix}/notes.txt`);
    await putFile(fleet, `elsewhere/${audio.id}.ogg`);
    await waitForSaved(fleet, [video.id, audio.id]);
    const saved = await fleet.store.get(video.id);
    expect(saved?.file).toMatchObject({ key: keyOf(video), size: 4096, contentType: "video/mp4" });
    expect(saved?.file?.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(saved?.timeline.at(-1)?.reason).toBe("file landed in storage");
    expect((await savedJobs(fleet, 2)).sort()).toEqual([`saved-${audio.id}`, `saved-${video.id}`].sort());
    await fleet.close();
  });

  it("takes only the object it asked egress for, once the egress ended: not a planted one, not the other container", async () => {
    const fleet = await startFleet(1);
    const recording = await recordingIn(fleet, "active");
    // Planted at the exact key while the egress still records: not its file (egress uploads at the end).
    const running = ignoredFor(fleet, "recording still running");
    await putFile(fleet, keyOf(recording), 11);
    await running;
    expect(await fleet.store.get(recording.id)).toMatchObject({ status: "active", file: null });
    await fleet.store.transition(recording.id, "stopped", { reason: "t" });
    // The other container, and the right key with another content type.
    const otherKind = ignoredFor(fleet, "not the file recfleet asked for");
    await putFile(fleet, `rec-${fleet.prefix}/${recording.id}.ogg`, 12);
    await otherKind;
    const wrongType = ignoredFor(fleet, "wrong content type");
    await putFile(fleet, keyOf(recording), 13, "text/html");
    await wrongType;
    // The manifest egress writes beside the file is not a recording file at all.
    await putFile(fleet, `rec-${fleet.prefix}/EG_${recording.id.slice(-8)}.json`, 14);
    expect(await fleet.store.get(recording.id)).toMatchObject({ status: "stopped", file: null });
    await putFile(fleet, keyOf(recording), 4096);
    await waitForSaved(fleet, [recording.id]);
    expect((await fleet.store.get(recording.id))?.file).toMatchObject({ key: keyOf(recording), size: 4096 });
    expect(await savedJobs(fleet, 1)).toEqual([`saved-${recording.id}`]);
    await fleet.close();
  });

  it("asks the recorder to remove a file that lands after its recording was deleted", async () => {
    const fleet = await startFleet(1);
    const recording = await recordingIn(fleet, "stopped");
    await putFile(fleet, keyOf(recording), 4096);
    await waitForSaved(fleet, [recording.id]);
    await fleet.store.requestDelete(recording.id, { tenant: "default", keyId: "k" }, "test: delete");
    await fleet.store.transition(recording.id, "deleted", { reason: "test: files removed" });
    // A retried upload brings it back.
    await putFile(fleet, keyOf(recording), 4096);
    expect(await controlJobs(fleet)).toEqual([
      ["late-file", { recordingId: recording.id, key: keyOf(recording) }],
    ]);
    expect((await fleet.store.get(recording.id))?.status).toBe("deleted");
    await fleet.close();
  });

  it("finds files under the egress fleet's own storage prefix, and only there", async () => {
    const fleet = await startFleet(1, { STORAGE_EGRESS_PREFIX: "egress-eu" });
    const recording = await recordingIn(fleet, "stopped", { egressPrefix: "egress-eu" });
    expect(keyOf(recording)).toBe(`egress-eu/rec-${fleet.prefix}/${recording.id}.mp4`);
    // Where it would be without the prefix: outside what the listener watches.
    await putFile(fleet, `rec-${fleet.prefix}/${recording.id}.mp4`, 10);
    await putFile(fleet, keyOf(recording), 2048);
    await waitForSaved(fleet, [recording.id]);
    expect((await fleet.store.get(recording.id))?.file).toMatchObject({ key: keyOf(recording), size: 2048 });
    await fleet.close();
  });

  it("saves an HLS and thumbnails recording only once its playlist is closed, its segments there and the image manifest written", async () => {
    const fleet = await startFleet(1);
    const created = await fleet.store.create({
      room: `room-${uniquePrefix()}`,
      kind: "video",
      outputs: [
        { type: "hls", segmentSeconds: 2, livePlaylist: false },
        { type: "images", intervalSeconds: 5, width: null, height: null },
      ],
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (created.outcome !== "created") throw new Error("not created");
    const { id } = created.recording;
    const dir = `rec-${fleet.prefix}/${id}/`;
    const egressId = `EG_${id.slice(-8)}`;
    await fleet.store.transition(id, "starting", {
      reason: "t",
      output: {
        bucket: BUCKET,
        file: null,
        hls: {
          playlistName: `${dir}playlist.m3u8`,
          playlistKey: `${dir}playlist.m3u8`,
          livePlaylistKey: null,
          segmentKeyPrefix: `${dir}seg_`,
        },
        images: { filenamePrefix: `${dir}img`, keyPrefix: `${dir}img`, dir },
      },
    });
    await fleet.store.transition(id, "active", { reason: "t", egressId });
    const playlist = (names: string[], ended: boolean) =>
      `#EXTM3U\n#EXT-X-VERSION:4\n${names.map((name) => `#EXTINF:2.000,\n${name}\n`).join("")}${ended ? "#EXT-X-ENDLIST\n" : ""}`;
    const put = (key: string, body: string, contentType: string) =>
      fleet.minio.putObject(BUCKET, key, Buffer.from(body), undefined, { "Content-Type": contentType });
    // While it records: segments, images and the rewritten playlist change nothing.
    await put(`${dir}seg_00000.ts`, "ts", "video/mp2t");
    await put(`${dir}img_00000.jpeg`, "jpeg", "image/jpeg");
    await put(`${dir}playlist.m3u8`, playlist(["seg_00000.ts"], false), "application/x-mpegurl");
    await fleet.store.transition(id, "stopping", { reason: "t" });
    // The closed playlist names a segment that is not there yet, and the manifest is missing.
    const waiting = fleet.listeners[0]?.waitForLine(
      (line) => line.includes(`the segment ${BUCKET}/${dir}seg_00001.ts`),
      20_000,
    );
    await put(
      `${dir}playlist.m3u8`,
      playlist(["seg_00000.ts", "seg_00001.ts"], true),
      "application/x-mpegurl",
    );
    await waiting;
    await put(`${dir}seg_00001.ts`, "ts", "video/mp2t");
    const noManifest = fleet.listeners[0]?.waitForLine((line) => line.includes("the image manifest"), 20_000);
    // Another put of the playlist: the check runs again and now waits for the manifest only.
    await put(
      `${dir}playlist.m3u8`,
      playlist(["seg_00000.ts", "seg_00001.ts"], true),
      "application/x-mpegurl",
    );
    await noManifest;
    expect((await fleet.store.get(id))?.status).toBe("stopping");
    await put(
      `${dir}${egressId}.json`,
      JSON.stringify({ images: [{ filename: `${dir}img_00000.jpeg` }] }),
      "application/json",
    );
    await waitForSaved(fleet, [id]);
    const saved = await fleet.store.get(id);
    expect(saved?.file).toMatchObject({ key: `${dir}playlist.m3u8`, contentType: "application/x-mpegurl" });
    expect(saved?.artifacts.map((artifact) => [artifact.type, artifact.key, artifact.count])).toEqual([
      ["playlist", `${dir}playlist.m3u8`, 2],
      ["images", `${dir}${egressId}.json`, 1],
    ]);
    expect(saved?.timeline.at(-1)?.reason).toBe("files landed in storage");
    expect(await savedJobs(fleet, 1)).toEqual([`saved-${id}`]);
    // Deleted, then a segment upload retried late: the recorder is asked to remove it.
    await fleet.store.requestDelete(id, { tenant: "default", keyId: "k" }, "test: delete");
    await fleet.store.transition(id, "deleted", { reason: "test: files removed" });
    await put(`${dir}seg_00002.ts`, "ts", "video/mp2t");
    expect(await controlJobs(fleet)).toEqual([["late-file", { recordingId: id, key: `${dir}seg_00002.ts` }]]);
    await fleet.close();
  });

  it("two replicas see every event and still queue one email per file", async () => {
    const fleet = await startFleet(2);
    const recordings = await Promise.all(Array.from({ length: 10 }, () => stoppedRecording(fleet)));
    await Promise.all(recordings.map((recording) => putFile(fleet, keyOf(recording))));
    await waitForSaved(
      fleet,
      recordings.map((recording) => recording.id),
    );
    const jobs = await savedJobs(fleet, 10);
    expect(jobs).toHaveLength(10);
    for (const recording of recordings) {
      const timeline = (await fleet.store.get(recording.id))?.timeline ?? [];
      expect(timeline.filter((entry) => entry.status === "saved")).toHaveLength(1);
    }
    await fleet.close();
  });

  it(
    "misses no file written while it was disconnected: the storage restarted, 50 files landed before it listened again",
    async () => {
      const fleet = await startFleet(1);
      const recordings = await Promise.all(Array.from({ length: 50 }, () => stoppedRecording(fleet)));
      s3.process.child.kill("SIGKILL");
      await s3.process.exited;
      s3 = await startS3(s3.port, s3.dataDir);
      // The listener is backing off: these events are lost, only the re-scan can find the files.
      await Promise.all(recordings.map((recording) => putFile(fleet, keyOf(recording))));
      await waitForSaved(
        fleet,
        recordings.map((recording) => recording.id),
        40_000,
      );
      expect(await savedJobs(fleet, 50)).toHaveLength(50);
      // The outcome above is what matters; that the listener noticed the outage is the premise.
      await fleet.listeners[0]?.waitForLine(/bucket listener lost: reconnecting/, 5_000);
      await fleet.close();
    },
    scaled(60_000),
  );

  it(
    "finds every file when 30 % of events are dropped, through its periodic re-scan",
    async () => {
      await fetch(`http://127.0.0.1:${s3.port}/_admin/faults`, {
        method: "POST",
        body: JSON.stringify({ dropEvents: 0.3 }),
        headers: { "content-type": "application/json" },
      });
      try {
        const fleet = await startFleet(1, { LISTENER_RESYNC_INTERVAL_MS: "2000" });
        const recordings = await Promise.all(Array.from({ length: 30 }, () => stoppedRecording(fleet)));
        await Promise.all(recordings.map((recording) => putFile(fleet, keyOf(recording))));
        await waitForSaved(
          fleet,
          recordings.map((recording) => recording.id),
          20_000,
        );
        expect(await savedJobs(fleet, 30)).toHaveLength(30);
        const reasons = await Promise.all(
          recordings.map(async (r) => (await fleet.store.get(r.id))?.timeline.at(-1)?.reason),
        );
        // The drop fault loses exactly 9 of the 30 events (an even pattern, not chance): those
        // recordings can only have been found by a re-scan (which may also beat an event to one).
        expect(
          reasons.filter((reason) => reason === "file found in storage by a re-scan").length,
        ).toBeGreaterThanOrEqual(9);
        await fleet.close();
      } finally {
        await fetch(`http://127.0.0.1:${s3.port}/_admin/faults`, {
          method: "POST",
          body: JSON.stringify({ dropEvents: 0 }),
          headers: { "content-type": "application/json" },
        });
      }
    },
    scaled(40_000),
  );

  it(
    "re-scans only the keys of recordings that can still be saved: nothing older than the oldest one waiting",
    async () => {
      // Everything is in place before the listener starts: its first re-scan is the one measured.
      const fleet = await startFleet(0);
      const old = await recordingIn(fleet, "stopped");
      await fleet.store.transition(old.id, "saved", { reason: "t" });
      for (let i = 0; i < 20; i += 1) {
        await putFile(
          fleet,
          `rec-${fleet.prefix}/${old.id}/seg_${String(i).padStart(5, "0")}.ts`,
          16,
          "video/mp2t",
        );
      }
      const waiting = await stoppedRecording(fleet);
      await putFile(fleet, keyOf(waiting), 2048);
      const listener = await fleet.addListener();
      const line = JSON.parse(await listener.waitForLine(/bucket re-scan done/, 20_000)) as {
        scanned: number;
        startAfter: string;
      };
      expect(line.startAfter).toBe(`rec-${fleet.prefix}/${waiting.id}`);
      // The listing began after the waiting recording's id: the old one's objects were not listed.
      expect(line.scanned).toBe(1);
      await waitForSaved(fleet, [waiting.id]);
      expect((await fleet.store.get(waiting.id))?.timeline.at(-1)?.reason).toBe(
        "file found in storage by a re-scan",
      );
      await fleet.close();
    },
    scaled(40_000),
  );

  it(
    "survives a garbage line in the stream: it reconnects and keeps working",
    async () => {
      const fleet = await startFleet(1);
      for (const line of ["this is not json", "null"]) {
        const before =
          fleet.listeners[0]?.lines.filter((l) => l.includes("listening for bucket notifications")).length ??
          0;
        await fetch(`http://127.0.0.1:${s3.port}/_admin/listeners/garbage`, {
          method: "POST",
          body: JSON.stringify({ line }),
          headers: { "content-type": "application/json" },
        });
        await fleet.listeners[0]?.waitForLine(
          (() => {
            let seen = 0;
            return (l: string) => l.includes("listening for bucket notifications") && ++seen > before;
          })(),
          20_000,
        );
      }
      const recording = await stoppedRecording(fleet);
      await putFile(fleet, keyOf(recording));
      await waitForSaved(fleet, [recording.id]);
      expect(fleet.listeners[0]?.child.exitCode).toBeNull();
      expect(
        fleet.listeners[0]?.lines.some((line) => line.includes("bucket listener lost: reconnecting")),
      ).toBe(true);
      await fleet.close();
    },
    scaled(60_000),
  );
});
