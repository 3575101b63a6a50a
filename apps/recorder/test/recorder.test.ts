import { QUEUE } from "@recfleet/queues";
import { scaled, startRedis, type TestRedis } from "@recfleet/testing";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import { handleStop } from "../src/handlers/stop.ts";
import {
  closeTestS3,
  createRecording,
  type EgressProcess,
  eventually,
  type Harness,
  startEgressProcess,
  startHarness,
  statusOf,
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

async function notificationJob(prefix: string, recordingId: string) {
  const queue = new Queue(QUEUE.notifications, { connection: { url: redis.url }, prefix });
  const job = await queue.getJob(`failed-${recordingId}`);
  await queue.close();
  return job;
}

describe("start", () => {
  it("sends egress the request each profile and kind calls for", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      storage: { STORAGE_EGRESS_ENDPOINT: "http://minio:9000", STORAGE_BUCKET: "recordings" },
    });
    const video = await createRecording(harness.store, { profile: "low-cpu", layout: "grid" }, egress);
    const audio = await createRecording(harness.store, { kind: "audio", profile: "balanced" }, egress);
    const plain = await createRecording(harness.store, { profile: "default" }, egress);
    for (const recording of [video, audio, plain])
      await harness.producer.enqueue("start", { recordingId: recording.id });
    for (const recording of [video, audio, plain]) await withEgress(harness.store, recording.id);

    const byRoom = new Map(
      (await egress.startRequests()).map((request) => [request.body.roomName, request.body]),
    );
    const s3 = {
      accessKey: "recfleet",
      secret: "recfleet-secret",
      region: "us-east-1",
      endpoint: "http://minio:9000",
      bucket: "recordings",
      forcePathStyle: true,
    };
    expect(byRoom.get(video.room)).toEqual({
      roomName: video.room,
      layout: "grid",
      advanced: {
        width: 1280,
        height: 720,
        depth: 24,
        framerate: 15,
        audioCodec: "AAC",
        audioBitrate: 64,
        audioFrequency: 48000,
        videoCodec: "H264_MAIN",
        videoBitrate: 600,
        keyFrameInterval: 4,
      },
      fileOutputs: [{ fileType: "MP4", filepath: `recordings/${video.id}.mp4`, s3 }],
    });
    expect(byRoom.get(audio.room)).toEqual({
      roomName: audio.room,
      layout: "speaker",
      audioOnly: true,
      advanced: { audioCodec: "OPUS", audioBitrate: 96, audioFrequency: 48000 },
      fileOutputs: [{ fileType: "OGG", filepath: `recordings/${audio.id}.ogg`, s3 }],
    });
    // The default profile sends no encoding options at all.
    expect(byRoom.get(plain.room)).toEqual({
      roomName: plain.room,
      layout: "speaker",
      fileOutputs: [{ fileType: "MP4", filepath: `recordings/${plain.id}.mp4`, s3 }],
    });
    const started = await harness.store.get(video.id);
    expect(started?.egressId).toMatch(/^EG_/);
    expect(started?.timeline.map((entry) => entry.reason)).toEqual([
      "recording requested",
      "picked up by a recorder",
      `egress ${started?.egressId} started; it records once someone publishes in room "${video.room}"`,
    ]);
    // Once egress records, the recording is active (the webhook, or here the reconciler, says so).
    expect((await untilActive(harness, video.id)).timeline.at(-1)?.reason).toMatch(
      /is recording \(reconciler: webhook missed\)$/,
    );
  });

  it("keeps retrying while the fleet is full, then fails the recording at the start deadline", async () => {
    await egress.admin("/faults", { capacity: 0 });
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { startDeadlineMs: 2500 },
    });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const waiting = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.some((entry) => entry.reason.startsWith("egress not available"))
        ? current
        : undefined;
    });
    expect(waiting.status).toBe("starting");
    const failed = await statusOf(harness.store, recording.id, "failed", 15_000);
    expect(failed.error?.code).toBe("start_failed");
    expect(failed.error?.message).toMatch(/unavailable: no response from servers/);
    const notes = failed.timeline.filter((entry) => entry.reason.startsWith("egress not available"));
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect((await notificationJob(harness.prefix, recording.id))?.data).toEqual({
      recordingId: recording.id,
      reason: "start_failed",
    });
    expect(await egress.egresses()).toEqual([]);
  });

  it("fails at once, without retry, when egress refuses the credentials", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      apiSecret: "a-wrong-secret-0123456789",
    });
    const recording = await createRecording(harness.store, {}, egress);
    const job = await harness.producer.enqueue("start", { recordingId: recording.id });
    const failed = await statusOf(harness.store, recording.id, "failed");
    expect(failed.error).toMatchObject({ code: "start_failed" });
    expect(failed.error?.message).toMatch(/egress refused to start: http_401/);
    const queue = harness.producer.queue("control");
    await eventually(async () => ((await queue.getJobState(job.id ?? "")) === "failed" ? true : undefined));
    // Read after it is failed: a job fetched before its state check may predate the failure.
    const finished = await queue.getJob(job.id ?? "");
    expect(finished?.attemptsMade).toBe(1);
    expect(await notificationJob(harness.prefix, recording.id)).toBeDefined();
  });

  it(
    "gives all five an egress when the fleet takes one at a time",
    async () => {
      await egress.admin("/faults", { capacity: 1 });
      harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
      const recordings = await Promise.all(
        Array.from({ length: 5 }, () => createRecording(harness.store, {}, egress)),
      );
      for (const recording of recordings)
        await harness.producer.enqueue("start", { recordingId: recording.id });
      const recorded = new Set<string>();
      await eventually(
        async () => {
          for (const recording of recordings) {
            const current = await harness.store.get(recording.id);
            if (current?.egressId && !recorded.has(recording.id)) {
              recorded.add(recording.id);
              // Stopping the egress frees the fleet's one slot for the next recording.
              await harness.producer.enqueue("stop", { recordingId: recording.id });
            }
            expect(current?.status === "failed" && current.error?.code === "start_failed").toBe(false);
          }
          return recorded.size === 5 ? true : undefined;
        },
        60_000,
        "all five recordings to get an egress",
      );
      const starts = await egress.startRequests();
      expect(starts.filter((request) => request.status === 200)).toHaveLength(5);
      expect(starts.filter((request) => request.code === "unavailable").length).toBeGreaterThan(0);
    },
    scaled(90_000),
  );
});

describe("stop", () => {
  it("sends a running room composite the layout its recording now asks for", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, { layout: "speaker" }, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await withEgress(harness.store, recording.id);
    await harness.store.changeLayout(recording.id, "grid-dark", "test: layout changed");
    const job = await harness.producer.enqueue("update-layout", {
      recordingId: recording.id,
      requestedAtMs: 1,
    });
    const result = await eventually(async () =>
      (await job.isCompleted())
        ? (await harness.producer.queue("control").getJob(String(job.id)))?.returnvalue
        : undefined,
    );
    expect(result).toBe("updated");
    const egresses = await egress.egresses();
    const running = egresses.find((entry) => entry.info.egress_id === active.egressId) as
      | { layout?: string }
      | undefined;
    expect(running?.layout).toBe("grid-dark");
    expect((await harness.store.get(recording.id))?.timeline.at(-1)?.reason).toBe(
      `layout grid-dark sent to egress ${active.egressId}`,
    );
  });

  it("asks LiveKit once per reconcile sweep, however many recordings are in progress", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await harness.worker.pause();
    const recordings = await Promise.all(
      [0, 1, 2, 3, 4].map(() => createRecording(harness.store, {}, egress)),
    );
    await harness.worker.resume();
    for (const recording of recordings)
      await harness.producer.enqueue("start", { recordingId: recording.id });
    for (const recording of recordings) await withEgress(harness.store, recording.id);
    await harness.worker.pause();
    const listCalls = async () =>
      (await egress.admin<{ requests: { method: string | null }[] }>("/requests")).requests.filter(
        (request) => request.method === "ListEgress",
      ).length;
    const before = await listCalls();
    await handleReconcile(harness.context, harness.client, harness.prefix);
    // One ListEgress for the whole sweep: the in-progress recordings and the orphan check share it.
    expect((await listCalls()) - before).toBe(1);
  });

  it("cancels a recording that has not started", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await harness.worker.pause();
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("stop", { recordingId: recording.id, reason: "user stopped" });
    harness.worker.resume();
    const cancelled = await statusOf(harness.store, recording.id, "cancelled");
    expect(cancelled.timeline.at(-1)?.reason).toBe("user stopped before it started");
  });

  it("stops an active egress, and a second stop changes nothing", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopping = await statusOf(harness.store, recording.id, "stopping");
    expect(stopping.timeline.at(-1)?.reason).toBe(`stop sent to egress ${active.egressId}`);
    const [stopRequest] = (
      await egress.admin<{ requests: { method: string; body: unknown }[] }>("/requests")
    ).requests.filter((request) => request.method === "StopEgress");
    expect(stopRequest?.body).toEqual({ egressId: active.egressId });
    // A repeated stop (a retried job) while egress finishes the file changes nothing.
    expect(await handleStop(harness.context, { recordingId: recording.id })).toMatch(
      /^(stopping|already ending)$/,
    );
    expect((await harness.store.get(recording.id))?.status).toBe("stopping");
  });

  it("treats an egress that already ended as stopped, and an unknown one as stopping, waiting for its file", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    // Egress ended on its own (its webhook lost): StopEgress answers failed_precondition.
    await egress.admin(`/egresses/${active.egressId}/fail`, {});
    await eventually(async () => {
      const [snapshot] = (await egress.egresses()).filter((item) => item.info.egress_id === active.egressId);
      return snapshot?.info.status === "EGRESS_FAILED" ? true : undefined;
    });
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopped = await statusOf(harness.store, recording.id, "stopped");
    expect(stopped.timeline.at(-1)?.reason).toMatch(/egress had already ended/);

    const ghost = await createRecording(harness.store, {}, egress);
    await harness.store.transition(ghost.id, "starting", { reason: "picked up" });
    await harness.store.transition(ghost.id, "active", { reason: "started", egressId: "EG_doesnotexist" });
    await harness.producer.enqueue("stop", { recordingId: ghost.id });
    // Nothing answered for it: it ends by its file, or as lost after RECORDER_STOP_TIMEOUT_MS.
    const waiting = await statusOf(harness.store, ghost.id, "stopping");
    expect(waiting.timeline.at(-1)?.reason).toBe(
      "stop sent to egress EG_doesnotexist: LiveKit has no record of it; waiting for its file",
    );
  });

  it("stops the egress as soon as it has an id when a stop arrives during the start", async () => {
    // Start answers after 800 ms; egress begins recording only after 2 s.
    await egress.admin("/faults", { startLatencyMs: 800, activationDelayMs: 2000 });
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    // The recording is starting: the Start call is in flight (egress answers after 800 ms).
    await statusOf(harness.store, recording.id, "starting");
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopped = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.some((entry) => entry.reason.includes("before it began recording"))
        ? current
        : undefined;
    });
    expect(stopped.stopRequested).toBe(true);
    expect(stopped.timeline.map((entry) => entry.status)).toEqual([
      "queued",
      "starting",
      "starting",
      "starting",
      "starting",
    ]);
    const [snapshot] = (await egress.egresses()).filter((item) => item.info.egress_id === stopped.egressId);
    expect(snapshot?.info.status).toBe("EGRESS_ABORTED");
    // The abort, once reported, cancels the recording: nothing was recorded, as asked.
    await handleReconcile(harness.context, harness.client, harness.prefix);
    expect((await harness.store.get(recording.id))?.status).toBe("cancelled");
  });
});

describe("reconciler", () => {
  it("fails a recording whose egress instance died as lost, with a notification", async () => {
    await egress.admin("/faults", { crashNext: 1 });
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { stopTimeoutMs: 500 },
    });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await eventually(async () => {
      const [snapshot] = (await egress.egresses()).filter((item) => item.info.egress_id === active.egressId);
      return snapshot?.crashed ? true : undefined;
    });
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopping = await statusOf(harness.store, recording.id, "stopping");
    expect(stopping.timeline.at(-1)?.reason).toMatch(/no answer yet \(deadline_exceeded/);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const summary = await handleReconcile(harness.context, harness.client, harness.prefix);
    expect(summary).toMatchObject({ "lost: stop never completed": 1 });
    const lost = await harness.store.get(recording.id);
    expect(lost?.error?.code).toBe("lost");
    expect((await notificationJob(harness.prefix, recording.id))?.data).toEqual({
      recordingId: recording.id,
      reason: "lost",
    });
  });

  it("applies what a lost webhook would have: an egress that failed", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await createRecording(harness.store, {}, egress);
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await egress.admin(`/egresses/${active.egressId}/fail`, { error: "pipeline crashed" });
    await eventually(async () => {
      const [snapshot] = (await egress.egresses()).filter((item) => item.info.egress_id === active.egressId);
      return snapshot?.info.status === "EGRESS_FAILED" ? true : undefined;
    });
    // No webhook reaches the recorder here: only the reconciler can notice.
    await harness.producer.enqueue("reconcile", {});
    const failed = await statusOf(harness.store, recording.id, "failed");
    expect(failed.error).toEqual({ code: "egress_failed", message: "pipeline crashed" });
    expect(failed.timeline.at(-1)?.reason).toMatch(/reconciler: webhook missed/);
    expect(await notificationJob(harness.prefix, recording.id)).toBeDefined();
  });

  it("queues the start job again for a recording left queued without one", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { queuedTimeoutMs: 1 },
    });
    const recording = await createRecording(harness.store, {}, egress);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await harness.producer.enqueue("reconcile", {});
    const started = await withEgress(harness.store, recording.id);
    expect(started.timeline.map((entry) => entry.reason)).toContain(
      "start job was missing: queued again by the reconciler",
    );
  });
});
