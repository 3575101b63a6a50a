// A stream output end to end on the recorder's side: the Start carries the whole URLs (read from
// the store, never from a job), the emulator's egress publishes to its RTMP ingest, UpdateStream
// adds and removes destinations while it runs, and a stream-only recording ends stopped with its
// stream-ended notification queued — no file is waited for.

import { QUEUE } from "@recfleet/queues";
import { redactStreamUrl } from "@recfleet/recordings";
import { freePort } from "@recfleet/runtime";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  closeTestS3,
  createRecording,
  type EgressProcess,
  eventually,
  type Harness,
  startEgressProcess,
  startHarness,
  untilActive,
} from "./support.ts";

let redis: TestRedis;
let egress: EgressProcess;
let harness: Harness;

beforeAll(async () => {
  redis = await startRedis();
  egress = await startEgressProcess([`--rtmp-ingest-port=${await freePort()}`]);
});
afterAll(async () => {
  await closeTestS3();
  await egress?.process.stop();
  await redis?.stop();
});
afterEach(async () => {
  await harness?.close();
});

interface Ingested {
  app: string;
  keyHint: string;
  publishingSince: string | null;
  endedAt: string | null;
  refused: boolean;
  mediaMessages: number;
}

const ingested = async () => (await egress.admin<{ streams: Ingested[] }>("/rtmp")).streams;

/** Waits until the ingest shows a publish of the key (by its hint) that is live and sends media. */
function untilLive(keyHint: string) {
  return eventually(
    async () => {
      const stream = (await ingested()).find((entry) => entry.keyHint === keyHint && entry.endedAt === null);
      return stream && stream.publishingSince !== null && stream.mediaMessages > 0 ? stream : undefined;
    },
    15_000,
    `a live publish of ${keyHint}`,
  );
}

/** Changes the recording's stream URLs as the API does, unless `retry`, then runs the job. */
async function updateStreams(
  recordingId: string,
  change: { add?: string[]; remove?: string[] },
  requestedAtMs: number,
  retry = false,
) {
  const add = change.add ?? [];
  const remove = (change.remove ?? []).map(redactStreamUrl);
  if (!retry)
    await harness.store.changeStreams(recordingId, { add, remove }, redactStreamUrl, "test: change");
  const job = await harness.producer.enqueue("update-stream", {
    recordingId,
    add: add.map(redactStreamUrl),
    remove,
    requestedAtMs,
  });
  return eventually(async () =>
    (await job.isCompleted())
      ? (await harness.producer.queue("control").getJob(String(job.id)))?.returnvalue
      : undefined,
  );
}

describe("a stream output", () => {
  it("streams to the URLs the store holds, changes them while it runs, and ends stopped with its owner to be told", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const ingest = `rtmp://127.0.0.1:${egress.rtmpIngestPort}/live`;
    const first = `${ingest}/alpha-key-0001`;
    const second = `${ingest}/bravo-key-0002`;
    const recording = await createRecording(
      harness.store,
      { outputs: [{ type: "stream", urls: [redactStreamUrl(first)] }], streamUrls: [first] },
      egress,
    );
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    const egressId = active.egressId ?? "";
    expect(await untilLive("alp…001")).toMatchObject({ app: "live", refused: false });
    // The Start carried the whole URL (from the store: the job names the recording only).
    const [start] = await egress.startRequests();
    expect(start?.body.streamOutputs).toEqual([{ protocol: "RTMP", urls: [first] }]);

    // Egress' report reaches the recording: the stream is live, named redacted.
    const reported = await eventually(async () => {
      await handleReconcile(harness.context, harness.client, harness.prefix);
      const current = await harness.store.get(recording.id);
      return current?.streams.some((stream) => stream.status === "active") ? current : undefined;
    });
    expect(reported.streams.map((stream) => stream.url)).toEqual([redactStreamUrl(first)]);

    // Add the second destination, then drop the first: egress streams to exactly the new set.
    expect(await updateStreams(recording.id, { add: [second] }, 1)).toBe("updated");
    await untilLive("bra…002");
    // The same job again (a retry) changes nothing: egress already streams there.
    expect(await updateStreams(recording.id, { add: [second] }, 2, true)).toBe(
      "skipped: egress already streams as asked",
    );
    expect(await updateStreams(recording.id, { remove: [first] }, 3)).toBe("updated");
    await eventually(async () =>
      (await ingested()).find((entry) => entry.keyHint === "alp…001")?.endedAt ? true : undefined,
    );
    expect(
      (await ingested()).filter((entry) => entry.endedAt === null).map((entry) => entry.keyHint),
    ).toEqual(["bra…002"]);

    // Stopped: nothing is stored, so it is stopped (not waiting for a file) and its owner is told.
    await harness.producer.enqueue("stop", { recordingId: recording.id });
    const stopped = await eventually(async () => {
      await handleReconcile(harness.context, harness.client, harness.prefix);
      const current = await harness.store.get(recording.id);
      return current?.status === "stopped" ? current : undefined;
    });
    expect(stopped.file).toBeNull();
    expect(stopped.streams.map((stream) => [stream.url, stream.status])).toEqual([
      [redactStreamUrl(first), "finished"],
      [redactStreamUrl(second), "finished"],
    ]);
    const notifications = new Queue(QUEUE.notifications, {
      connection: { url: redis.url },
      prefix: harness.prefix,
    });
    const ended = await eventually(
      async () => (await notifications.getJob(`ended-${recording.id}`)) ?? undefined,
    );
    await notifications.close();
    expect(ended.data).toEqual({ recordingId: recording.id });
    // The egress ended for good, every publish with it; no key was ever written to the timeline.
    expect((await ingested()).every((entry) => entry.endedAt !== null)).toBe(true);
    expect(JSON.stringify(stopped)).not.toMatch(/alpha-key-0001|bravo-key-0002/);
    expect(egressId).not.toBe("");
  });

  it("notes a URL egress refuses on the timeline, redacted, and keeps recording", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const url = `rtmp://127.0.0.1:${egress.rtmpIngestPort}/live/charlie-key-003`;
    const recording = await createRecording(
      harness.store,
      { outputs: [{ type: "stream", urls: [redactStreamUrl(url)] }], streamUrls: [url] },
      egress,
    );
    await harness.producer.enqueue("start", { recordingId: recording.id });
    const active = await untilActive(harness, recording.id);
    await untilLive("cha…003");
    // Egress refuses a URL it cannot take; the answer names it redacted on the timeline.
    const bad = "rtmp://127.0.0.1:1/x";
    expect(await updateStreams(recording.id, { add: [bad] }, 1)).toBe("refused");
    const noted = await harness.store.get(recording.id);
    expect(noted?.status).toBe("active");
    expect(noted?.timeline.at(-1)?.reason).toMatch(
      /^streams \+rtmp:\/\/127\.0\.0\.1:1\/\{\.\.\.\} refused by egress: /,
    );
    expect(active.egressId).toBeTruthy();
  });
});
