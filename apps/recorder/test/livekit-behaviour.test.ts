// recfleet against LiveKit as it really behaves (the emulator's unkind parts): rooms that do not
// exist yet, egresses waiting for someone to publish, a full fleet that answers late, egresses
// LiveKit forgot, and egresses left running for nothing.
import { QUEUE } from "@recfleet/queues";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Queue } from "bullmq";
import { EgressStatus, EncodedFileOutput } from "livekit-server-sdk";
import { Client as MinioClient } from "minio";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  BUCKET,
  closeTestS3,
  createRecording,
  type EgressProcess,
  eventually,
  type Harness,
  S3_CREDENTIALS,
  startEgressProcess,
  startHarness,
  statusOf,
  testS3,
  untilActive,
  withEgress,
} from "./support.ts";

let redis: TestRedis;
let egress: EgressProcess;
let harness: Harness;

beforeAll(async () => {
  redis = await startRedis();
  egress = await startEgressProcess();
});
afterAll(async () => {
  await closeTestS3();
  await egress?.process.stop();
  await redis?.stop();
});
beforeEach(async () => {
  await egress.admin("/reset", {});
});
afterEach(async () => {
  await harness?.close();
});

/** A minio client on the test file's S3 emulator, with the recorder's credentials. */
async function testMinio(): Promise<MinioClient> {
  const s3 = await testS3();
  return new MinioClient({ endPoint: "127.0.0.1", port: s3.port, useSSL: false, ...S3_CREDENTIALS });
}

const reconcile = () => handleReconcile(harness.context, harness.client, harness.prefix);

async function egressInfo(egressId: string): Promise<Record<string, unknown> | undefined> {
  return (await egress.egresses()).find((item) => item.info.egress_id === egressId)?.info;
}

/** The value of a prom-client counter's series with these labels (0 when absent). */
async function counted(
  counter: { get(): Promise<{ values: { labels: Record<string, string | number>; value: number }[] }> },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get();
  const series = values.find((value) => Object.entries(labels).every(([key, v]) => value.labels[key] === v));
  return series?.value ?? 0;
}

describe("a room that does not exist yet", () => {
  it("waits for the room, then records once it opens", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, { room: "opens-later" });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const waiting = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.some((entry) => entry.reason.startsWith("waiting for room"))
        ? current
        : undefined;
    });
    expect(waiting.status).toBe("starting");
    expect(waiting.timeline.at(-1)?.reason).toBe(
      'waiting for room "opens-later" to open in LiveKit (up to 10 min): it does not exist yet',
    );
    await egress.openRoom("opens-later");
    const active = await untilActive(harness, recording.id, 30_000);
    expect(active.egressId).toMatch(/^EG_/);
  });

  it("fails room_not_found, with a reason a person understands, once the recording's wait is over", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, { room: "never-opens", roomWaitSeconds: 2 });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const failed = await statusOf(harness.store, recording.id, "failed", 20_000);
    expect(failed.error).toEqual({
      code: "room_not_found",
      message:
        'room "never-opens" did not exist in LiveKit 2 s after the recording was requested: nobody created or joined it',
    });
    expect(await egress.egresses()).toEqual([]);
  });
});

describe("an egress waiting for its start signal", () => {
  it("stays starting while nobody publishes, and records once someone does", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await egress.openRoom("nobody-talks", { publish: false });
    const recording = await createRecording(harness.store, { room: "nobody-talks" });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const { egressId } = await withEgress(harness.store, recording.id);
    expect(await reconcile()).toMatchObject({ "noted: waiting for a publisher": 1 });
    const noted = await harness.store.get(recording.id);
    expect(noted?.status).toBe("starting");
    expect(noted?.timeline.at(-1)?.reason).toBe(
      `waiting for someone to publish in room "nobody-talks": egress ${egressId} records once a camera, microphone or screen is shared`,
    );
    await egress.admin("/rooms/nobody-talks/participants/speaker/tracks", { source: "microphone" });
    await untilActive(harness, recording.id);
  });

  it("is stopped when nobody published before the deadline: the recording fails no_start_signal", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { egressStartTimeoutMs: 500 },
    });
    await egress.openRoom("silent-room", { publish: false });
    const recording = await createRecording(harness.store, { room: "silent-room" });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const { egressId } = await withEgress(harness.store, recording.id);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await reconcile()).toMatchObject({ "failed: no start signal": 1 });
    const failed = await harness.store.get(recording.id);
    expect(failed?.error?.code).toBe("no_start_signal");
    expect(failed?.error?.message).toMatch(/^nobody published in room "silent-room" within/);
    // No egress keeps its slot to record, later, for a recording already failed.
    expect(await egressInfo(egressId ?? "")).toMatchObject({
      status: "EGRESS_ABORTED",
      error: "Start signal not received",
    });
  });
});

describe("a full fleet that answers late", () => {
  it("counts a Start timeout as backpressure, looks for the egress before retrying, and ends with one egress", async () => {
    // LiveKit answers a full fleet only after its retries; the SDK gives up first.
    await egress.admin("/faults", { capacity: 0, refusalDelayMs: 1500 });
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url, requestTimeoutMs: 500 });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const waiting = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.some((entry) => entry.reason.startsWith("egress not available (timeout"))
        ? current
        : undefined;
    });
    expect(waiting.timeline.at(-1)?.reason).toMatch(/it may still start: looking for it before retrying/);
    expect(
      await counted(harness.context.metrics.startBackpressure, { cause: "timeout" }),
    ).toBeGreaterThanOrEqual(1);
    await egress.admin("/faults", { capacity: null });
    await untilActive(harness, recording.id, 30_000);
    const started = (await egress.startRequests()).filter((request) => request.status === 200);
    expect(started).toHaveLength(1);
  });
});

describe("an egress LiveKit forgot", () => {
  it("keeps an active recording whose egress LiveKit lost with its data, and saves it: the stop still reaches the egress", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    const egressId = active.egressId ?? "";
    await egress.admin("/egresses/forget", { all: true });
    expect(await reconcile()).toMatchObject({ "noted: egress unknown to LiveKit": 1 });
    const noted = await harness.store.get(recording.id);
    expect(noted?.status).toBe("active");
    expect(noted?.timeline.at(-1)?.reason).toBe(
      `LiveKit has no record of egress ${egressId} (purged, or LiveKit lost its data) and its file is not in storage yet: still waiting for it`,
    );
    // Noted once: the next sweep changes nothing.
    expect(await reconcile()).not.toHaveProperty("noted: egress unknown to LiveKit");
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    await statusOf(harness.store, recording.id, "stopping");
    await eventually(async () =>
      (await egressInfo(egressId))?.status === "EGRESS_COMPLETE" ? true : undefined,
    );
    await egress.admin("/egresses/forget", { all: true });
    expect(await reconcile()).toMatchObject({ "egress gone: saved": 1 });
    expect((await harness.store.get(recording.id))?.file?.key).toBe(`recordings/${recording.id}.mp4`);
  });

  it("fails a stopping recording whose egress is gone and whose file never came as lost, once the stop timeout passed", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { stopTimeoutMs: 500 },
    });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    // Its instance died, then LiveKit lost its records: nothing will ever upload the file.
    await egress.admin(`/egresses/${active.egressId}/crash`, {});
    await egress.admin("/egresses/forget", { all: true });
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopping = await statusOf(harness.store, recording.id, "stopping");
    expect(stopping.timeline.at(-1)?.reason).toBe(
      `stop sent to egress ${active.egressId}: LiveKit has no record of it; waiting for its file`,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await reconcile()).toMatchObject({ "lost: egress gone": 1 });
    const lost = await harness.store.get(recording.id);
    expect(lost?.error).toEqual({
      code: "lost",
      message: `egress ${active.egressId} is gone from LiveKit and its file did not arrive within 1 s of the stop`,
    });
  });

  it("cancels a recording stopped while starting whose egress is gone", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await egress.openRoom("gone-before-start", { publish: false });
    const recording = await createRecording(harness.store, { room: "gone-before-start" });
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const { egressId } = await withEgress(harness.store, recording.id);
    await egress.admin(`/egresses/${egressId}/crash`, {});
    await egress.admin("/egresses/forget", { all: true });
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const cancelled = await statusOf(harness.store, recording.id, "cancelled");
    expect(cancelled.timeline.at(-1)?.reason).toBe(
      `stopped before it began recording: egress ${egressId} is gone from LiveKit`,
    );
  });

  it("saves a stopping recording whose egress was purged when its file is in storage", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await harness.store.transition(recording.id, "stopping", { reason: "test: stop sent" });
    // Egress finishes and uploads; its webhooks and the bucket event are lost (no webhook URL,
    // no listener here); then LiveKit purges it.
    await harness.context.egress.stopEgress(active.egressId ?? "");
    await eventually(async () =>
      (await egressInfo(active.egressId ?? ""))?.status === "EGRESS_COMPLETE" ? true : undefined,
    );
    await egress.admin("/egresses/forget", {});
    expect(await reconcile()).toMatchObject({ "egress gone: saved": 1 });
    const saved = await harness.store.get(recording.id);
    expect(saved?.status).toBe("saved");
    const minio = await testMinio();
    const stat = await minio.statObject(BUCKET, `recordings/${recording.id}.mp4`);
    expect(saved?.file).toMatchObject({ key: `recordings/${recording.id}.mp4`, size: stat.size });
  });
});

describe("egresses running for nothing", () => {
  it("stops an egress recfleet started for a recording that is over, and never touches another system's", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    // Given up (e.g. failed by an operator's tool) while its egress still records.
    await harness.store.transition(recording.id, "failed", {
      reason: "test: given up",
      error: { code: "lost", message: "test" },
    });
    const foreign = await harness.context.egress.startRoomCompositeEgress(recording.room, {
      file: new EncodedFileOutput({ filepath: "someone-else/talk.mp4" }),
    });
    expect(await reconcile()).toMatchObject({ "stopped orphan egress": 1 });
    expect((await egressInfo(active.egressId ?? ""))?.status).toMatch(/EGRESS_(ENDING|COMPLETE)/);
    expect((await egressInfo(foreign.egressId))?.status).toMatch(/EGRESS_(STARTING|ACTIVE)/);
    expect(await counted(harness.context.metrics.orphansStopped, { reason: "recording failed" })).toBe(1);
    expect((await harness.store.get(recording.id))?.timeline.at(-1)?.reason).toBe(
      `stopped egress ${active.egressId}, still running for nothing (recording failed)`,
    );
  });
});

describe("files where egress puts them", () => {
  /** Records until egress ended (its webhooks lost: no webhook URL here); answers the recording. */
  async function recordAndEnd(own: EgressProcess, storage: Record<string, string>) {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: own.url, storage });
    const recording = await createRecording(harness.store, {}, own);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await harness.store.transition(recording.id, "stopping", { reason: "test: stop sent" });
    await harness.context.egress.stopEgress(active.egressId ?? "");
    await eventually(async () => {
      const [info] = await harness.context.egress.listEgress({ egressId: active.egressId ?? "" });
      return info?.status === EgressStatus.EGRESS_COMPLETE ? info : undefined;
    }, 20_000);
    return active;
  }

  it("saves a file egress wrote under its own storage prefix (STORAGE_EGRESS_PREFIX)", async () => {
    const own = await startEgressProcess(["--storage-prefix=egress-eu"]);
    try {
      const recording = await recordAndEnd(own, { STORAGE_EGRESS_PREFIX: "egress-eu" });
      expect(recording.output?.file?.key).toBe(`egress-eu/recordings/${recording.id}.mp4`);
      await own.admin("/egresses/forget", {});
      expect(await reconcile()).toMatchObject({ "egress gone: saved": 1 });
      const minio = await testMinio();
      const stat = await minio.statObject(BUCKET, `egress-eu/recordings/${recording.id}.mp4`);
      expect((await harness.store.get(recording.id))?.file).toMatchObject({
        bucket: BUCKET,
        key: `egress-eu/recordings/${recording.id}.mp4`,
        size: stat.size,
      });
    } finally {
      await own.process.stop();
    }
  });

  describe("an upload that went to egress' backup storage", () => {
    let own: EgressProcess;
    beforeAll(async () => {
      const minio = await testMinio();
      await minio.makeBucket("recordings-backup");
      own = await startEgressProcess(
        [
          "--upload-retry-delay-ms=1",
          `--backup-endpoint=${(await testS3()).url}`,
          "--backup-bucket=recordings-backup",
          `--backup-access-key=${S3_CREDENTIALS.accessKey}`,
          "--backup-prefix=spill",
        ],
        { EGRESS_BACKUP_SECRET: S3_CREDENTIALS.secretKey },
      );
    });
    afterAll(async () => {
      await own?.process.stop();
    });
    // egress cannot reach the storage recfleet gave it: every try fails, the backup takes the file.
    const unreachable = { STORAGE_EGRESS_ENDPOINT: "http://127.0.0.1:9" };

    it("is found there and saved when STORAGE_EGRESS_BACKUP_BUCKET names that store", async () => {
      const recording = await recordAndEnd(own, {
        ...unreachable,
        STORAGE_EGRESS_BACKUP_BUCKET: "recordings-backup",
        STORAGE_EGRESS_BACKUP_PREFIX: "spill",
      });
      // One sweep reads the ended egress (stopped, its file in the backup) and, no bucket event
      // coming from a backup store, looks the file up there at once.
      expect(await reconcile()).toEqual({ "moved to stopped": 1, "saved: file found": 1 });
      const saved = await harness.store.get(recording.id);
      expect(saved).toMatchObject({
        status: "saved",
        file: { bucket: "recordings-backup", key: `spill/recordings/${recording.id}.mp4` },
      });
      const notifications = new Queue(QUEUE.notifications, {
        connection: { url: redis.url },
        prefix: harness.prefix,
      });
      expect((await notifications.getJob(`saved-${recording.id}`))?.name).toBe("recording-saved");
      await notifications.close();
    });

    it("fails stored_in_backup, saying where the file went, when recfleet does not read that store", async () => {
      const recording = await recordAndEnd(own, unreachable);
      expect(await reconcile()).toMatchObject({ "failed: stored_in_backup": 1 });
      const failed = await harness.store.get(recording.id);
      expect(failed?.error?.code).toBe("stored_in_backup");
      expect(failed?.timeline.at(-1)?.reason).toContain(
        `/recordings-backup/spill/recordings/${recording.id}.mp4`,
      );
      expect(failed?.timeline.at(-1)?.reason).toContain("STORAGE_EGRESS_BACKUP_BUCKET is not set");
    });
  });
});
