import type { Recording } from "@recfleet/recordings";
import { eventually, startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { removeLateFile } from "../src/deletion.ts";
import { handleReconcile } from "../src/handlers/reconcile.ts";
import {
  BUCKET,
  closeTestS3,
  createRecording,
  type EgressProcess,
  type Harness,
  startEgressProcess,
  startHarness,
  statusOf,
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
afterEach(async () => {
  await harness?.close();
});

const BY = { tenant: "acme", keyId: "0123456789abcdef" };
const DAY_MS = 24 * 60 * 60 * 1000;

/** A recording that egress recorded and whose file is in the bucket, as the pipeline leaves it. */
async function savedWithFile(
  h: Harness,
  input: Parameters<typeof createRecording>[1] = {},
): Promise<Recording> {
  const recording = await createRecording(h.store, input);
  const key = `recordings/${recording.id}.mp4`;
  const output = {
    bucket: BUCKET,
    file: { filepath: key, key, contentType: "video/mp4", backup: null },
    hls: null,
    images: null,
  };
  await h.store.transition(recording.id, "starting", { reason: "test: started", output });
  await h.context.minio.putObject(BUCKET, key, Buffer.from("the recording"));
  const saved = await h.store.transition(recording.id, "saved", {
    reason: "test: file seen",
    file: { bucket: BUCKET, key, size: 13, etag: null, contentType: "video/mp4" },
  });
  if (!saved.ok) throw new Error("not saved");
  return saved.recording;
}

async function exists(h: Harness, key: string): Promise<boolean> {
  try {
    await h.context.minio.statObject(BUCKET, key);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "NotFound") return false;
    throw error;
  }
}

describe("deletion", () => {
  it("removes a saved recording's file from storage and leaves a tombstone saying who and when", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await savedWithFile(harness);
    const key = recording.file?.key ?? "";
    const link = await harness.context.minio.presignedGetObject(BUCKET, key, 600);
    expect((await fetch(link)).status).toBe(200);

    await harness.store.requestDelete(recording.id, BY, "deletion requested by test");
    await harness.producer.enqueue("delete", { recordingId: recording.id });
    const deleted = await statusOf(harness.store, recording.id, "deleted");
    expect(deleted.deleteRequested).toMatchObject(BY);
    expect(deleted.timeline.at(-1)?.reason).toBe(
      "deleted through the API by tenant acme: 1 object removed from storage",
    );
    expect(await exists(harness, key)).toBe(false);
    expect((await fetch(link)).status).toBe(404);
    // Repeated (a retried job, a second DELETE): nothing changes.
    await harness.producer.queue("control").remove(`delete-${recording.id}`);
    await harness.producer.enqueue("delete", { recordingId: recording.id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await harness.store.get(recording.id))?.timeline).toEqual(deleted.timeline);
  });

  it("removes everything in an HLS recording's directory, and deletes one whose directory stayed empty", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const hlsRecording = async (objects: string[]) => {
      const recording = await createRecording(harness.store);
      const dir = `recordings/${recording.id}/`;
      const output = {
        bucket: BUCKET,
        file: null,
        hls: {
          playlistName: `${dir}playlist.m3u8`,
          playlistKey: `${dir}playlist.m3u8`,
          livePlaylistKey: null,
          segmentKeyPrefix: `${dir}seg_`,
        },
        images: null,
      };
      await harness.store.transition(recording.id, "starting", { reason: "test: started", output });
      for (const name of objects)
        await harness.context.minio.putObject(BUCKET, `${dir}${name}`, Buffer.from(name));
      await harness.store.transition(recording.id, "failed", {
        reason: "test: egress failed",
        error: { code: "egress_failed", message: "test" },
      });
      await harness.store.requestDelete(recording.id, BY, "deletion requested by test");
      await harness.producer.enqueue("delete", { recordingId: recording.id });
      return { deleted: await statusOf(harness.store, recording.id, "deleted"), dir };
    };
    const names = Array.from({ length: 25 }, (_, i) => `seg_${String(i).padStart(5, "0")}.ts`);
    const written = await hlsRecording([...names, "playlist.m3u8"]);
    expect(written.deleted.timeline.at(-1)?.reason).toBe(
      "deleted through the API by tenant acme: 26 objects removed from storage",
    );
    for (const name of [...names, "playlist.m3u8"])
      expect(await exists(harness, `${written.dir}${name}`)).toBe(false);
    const empty = await hlsRecording([]);
    expect(empty.deleted.timeline.at(-1)?.reason).toBe(
      "deleted through the API by tenant acme: it had no files",
    );
  });

  it("waits while egress may still write the file, then deletes it once saved", async () => {
    harness = await startHarness({
      redisUrl: redis.url,
      egressUrl: egress.url,
      recorder: { reconcileIntervalMs: 300 },
    });
    const recording = await createRecording(harness.store);
    const key = `recordings/${recording.id}.mp4`;
    const output = {
      bucket: BUCKET,
      file: { filepath: key, key, contentType: "video/mp4", backup: null },
      hls: null,
      images: null,
    };
    await harness.store.transition(recording.id, "starting", { reason: "test", output });
    await harness.store.transition(recording.id, "active", { reason: "test", egressId: "EG_test" });
    await harness.store.requestDelete(recording.id, BY, "deletion requested by test");
    await harness.producer.enqueue("delete", { recordingId: recording.id });
    const job = await harness.producer.queue("control").getJob(`delete-${recording.id}`);
    // The job is put back (delayed) rather than deleting a file egress is still writing.
    for (let i = 0; i < 100 && !(await job?.isDelayed()); i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(await job?.isDelayed()).toBe(true);
    expect((await harness.store.get(recording.id))?.status).toBe("active");

    await harness.store.transition(recording.id, "stopped", { reason: "test: egress ended" });
    await harness.context.minio.putObject(BUCKET, key, Buffer.from("late file"));
    await harness.store.transition(recording.id, "saved", {
      reason: "test: file seen",
      file: { bucket: BUCKET, key, size: 9, etag: null, contentType: "video/mp4" },
    });
    await statusOf(harness.store, recording.id, "deleted");
    expect(await exists(harness, key)).toBe(false);
    expect((await job?.getState()) ?? "").toMatch(/^(completed|unknown)$/);
  });

  it("is finished by the reconciler when its job was lost", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await harness.worker.pause();
    const recording = await savedWithFile(harness);
    await harness.store.requestDelete(recording.id, BY, "deletion requested by test");
    const summary = await handleReconcile(harness.context, harness.client, harness.prefix);
    expect(summary["finished deletion"]).toBe(1);
    expect((await harness.store.get(recording.id))?.status).toBe("deleted");
    expect(await exists(harness, recording.file?.key ?? "")).toBe(false);
    expect(await harness.store.idsPendingDeletion()).toEqual([]);
  });
});

describe("a file that lands after its recording is gone", () => {
  it("is removed when it is one of the recording's objects, and kept otherwise", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    const recording = await savedWithFile(harness);
    const key = recording.file?.key ?? "";
    await harness.store.requestDelete(recording.id, BY, "deletion requested by test");
    await harness.producer.enqueue("delete", { recordingId: recording.id });
    const deleted = await statusOf(harness.store, recording.id, "deleted");
    // A late report of the file already removed (a re-scan that listed it before the deletion):
    // nothing to do, nothing to note.
    expect(await removeLateFile(harness.context, recording.id, key)).toBe("already gone");
    expect((await harness.store.get(recording.id))?.timeline).toEqual(deleted.timeline);
    // A retried upload puts it back, and a stranger's object sits beside it.
    await harness.context.minio.putObject(BUCKET, key, Buffer.from("late upload"));
    await harness.context.minio.putObject(BUCKET, "recordings/not-its-own.mp4", Buffer.from("other"));
    await harness.producer.enqueue("late-file", {
      recordingId: recording.id,
      key: "recordings/not-its-own.mp4",
    });
    await harness.producer.enqueue("late-file", { recordingId: recording.id, key });
    await eventually(async () => ((await exists(harness, key)) ? undefined : true), {
      what: "the late file removed",
    });
    const after = await eventually(async () => {
      const current = await harness.store.get(recording.id);
      return current?.timeline.at(-1)?.reason.includes("landed in storage after") ? current : undefined;
    });
    expect(after.timeline.at(-1)?.reason).toBe(
      `${key} landed in storage after the recording was deleted: removed`,
    );
    expect(after.status).toBe("deleted");
    expect(await exists(harness, "recordings/not-its-own.mp4")).toBe(true);
  });
});

describe("expiry", () => {
  it("removes the files of recordings whose expiresAt has come, marks them expired, and leaves the others", async () => {
    harness = await startHarness({ redisUrl: redis.url, egressUrl: egress.url });
    await harness.worker.pause();
    const shortLived = await savedWithFile(harness, { expireDays: 1 });
    const longLived = await savedWithFile(harness, { expireDays: 30 });
    const forever = await savedWithFile(harness);
    expect(Date.parse(shortLived.expiresAt ?? "") - Date.parse(shortLived.updatedAt)).toBe(DAY_MS);
    expect(forever.expiresAt).toBeNull();

    expect(await handleReconcile(harness.context, harness.client, harness.prefix)).not.toHaveProperty(
      "expired files",
    );
    // Two days later, as the recorder's clock says.
    harness.context.now = () => Date.now() + 2 * DAY_MS;
    const summary = await handleReconcile(harness.context, harness.client, harness.prefix);
    expect(summary["expired files"]).toBe(1);
    const expired = await harness.store.get(shortLived.id);
    expect(expired?.status).toBe("expired");
    expect(expired?.timeline.at(-1)?.reason).toBe(
      "expired: kept 1 day after it was saved; its files were removed from storage",
    );
    expect(await exists(harness, shortLived.file?.key ?? "")).toBe(false);
    expect(await exists(harness, longLived.file?.key ?? "")).toBe(true);
    expect(await exists(harness, forever.file?.key ?? "")).toBe(true);
    expect((await harness.store.get(longLived.id))?.status).toBe("saved");
    // Swept once: the next sweep finds nothing due.
    expect(await harness.store.dueForExpiry(harness.context.now())).toEqual([]);
  });
});
