import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyEgressReport,
  type EgressReport,
  egressReportOf,
  type Recording,
  type RecordingOutput,
  RecordingStore,
} from "../src/index.ts";

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { commandTimeout: 2000 });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const BACKUP = { bucket: "egress-backup", key: "" };

/** What a recorder plans for a recording: egress' storage prefix `egress` in front of the filepath. */
function outputFor(id: string, backup: boolean): RecordingOutput {
  const filepath = `recordings/${id}.mp4`;
  return {
    bucket: "recordings",
    file: {
      filepath,
      key: `egress/${filepath}`,
      contentType: "video/mp4",
      backup: backup ? { ...BACKUP, key: `spare/${filepath}` } : null,
    },
    hls: null,
    images: null,
  };
}

async function activeRecording(
  store: RecordingStore,
  options: { backup?: boolean } = {},
): Promise<Recording> {
  const created = await store.create({
    room: `room-${uniquePrefix()}`,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error("not created");
  await store.transition(created.recording.id, "starting", {
    reason: "picked up",
    output: outputFor(created.recording.id, options.backup ?? false),
  });
  const active = await store.transition(created.recording.id, "active", {
    reason: "started",
    egressId: "EG_1",
  });
  if (!active.ok) throw new Error("not active");
  return active.recording;
}

describe("applyEgressReport", () => {
  function completed(filename: string, backupStorageUsed = false): EgressReport {
    return {
      egressId: "EG_1",
      status: "EGRESS_COMPLETE",
      error: "",
      details: "",
      file: { filename, size: 1234, location: `http://s3.test/recordings/egress/${filename}` },
      backupStorageUsed,
      streams: [],
      updatedAt: null,
    };
  }

  it("records a completed egress with its file where egress put it (under its prefix), once", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const report = completed(`recordings/${recording.id}.mp4`);
    const first = await applyEgressReport(store, recording, report, "webhook");
    expect(first).toMatchObject({
      changed: true,
      recording: {
        status: "stopped",
        file: {
          bucket: "recordings",
          key: `egress/recordings/${recording.id}.mp4`,
          size: 1234,
          etag: null,
          contentType: "video/mp4",
        },
      },
    });
    expect(first.refusedFilename).toBeUndefined();
    const again = await applyEgressReport(store, first.recording, report, "webhook");
    expect(again.changed).toBe(false);
    expect((await store.get(recording.id))?.timeline).toHaveLength(4);
  });

  it("refuses a file the recording did not ask for, and says so", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const other = await activeRecording(store);
    const outcome = await applyEgressReport(
      store,
      recording,
      completed(`recordings/${other.id}.mp4`),
      "webhook",
    );
    expect(outcome).toMatchObject({
      changed: true,
      refusedFilename: `recordings/${other.id}.mp4`,
      recording: { status: "stopped", file: null },
    });
  });

  it("finds a file egress put in its backup storage there, when recfleet reads that store", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store, { backup: true });
    const outcome = await applyEgressReport(
      store,
      recording,
      completed(`recordings/${recording.id}.mp4`, true),
      "webhook",
    );
    expect(outcome).toMatchObject({
      changed: true,
      recording: {
        status: "stopped",
        file: { bucket: "egress-backup", key: `spare/recordings/${recording.id}.mp4` },
      },
    });
    expect(outcome.recording.timeline.at(-1)?.reason).toContain("backup storage egress-backup");
  });

  it("fails stored_in_backup, saying where the file went, when recfleet does not read the backup store", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const outcome = await applyEgressReport(
      store,
      recording,
      completed(`recordings/${recording.id}.mp4`, true),
      "webhook",
    );
    expect(outcome).toMatchObject({
      changed: true,
      failed: "stored_in_backup",
      recording: { status: "failed", file: null, error: { code: "stored_in_backup" } },
    });
    expect(outcome.recording.error?.message).toContain(
      `http://s3.test/recordings/egress/recordings/${recording.id}.mp4`,
    );
    expect(outcome.recording.error?.message).toContain("STORAGE_EGRESS_BACKUP_BUCKET");
  });

  it("fails the recording on EGRESS_FAILED and reports the failure again on a repeat", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const report = {
      egressId: "EG_1",
      status: "EGRESS_FAILED" as const,
      error: "pipeline crashed",
      details: "",
      backupStorageUsed: false,
      streams: [],
      updatedAt: null,
    };
    const first = await applyEgressReport(store, recording, report, "webhook");
    expect(first).toMatchObject({
      changed: true,
      failed: "egress_failed",
      recording: { status: "failed", error: { code: "egress_failed", message: "pipeline crashed" } },
    });
    expect(await applyEgressReport(store, first.recording, report, "reconciler")).toMatchObject({
      changed: false,
      failed: "egress_failed",
    });
  });

  it("never lets a late egress failure hide a file already saved", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    await store.transition(recording.id, "saved", { reason: "file landed before the webhook" });
    const late = await applyEgressReport(
      store,
      recording,
      {
        egressId: "EG_1",
        status: "EGRESS_FAILED",
        error: "x",
        details: "",
        backupStorageUsed: false,
        streams: [],
        updatedAt: null,
      },
      "webhook",
    );
    expect(late).toEqual({ recording: expect.objectContaining({ status: "saved" }), changed: false });
  });

  it("reads an EgressInfo's status, error and first file", () => {
    expect(
      egressReportOf({
        egressId: "EG_2",
        status: 3,
        error: "",
        details: "",
        fileResults: [{ filename: "recordings/x.ogg", size: 2048n, location: "http://s3/x.ogg" }],
        backupStorageUsed: true,
        updatedAt: 0n,
        streamResults: [],
      }),
    ).toEqual({
      egressId: "EG_2",
      status: "EGRESS_COMPLETE",
      error: "",
      details: "",
      file: { filename: "recordings/x.ogg", size: 2048, location: "http://s3/x.ogg" },
      backupStorageUsed: true,
      streams: [],
      updatedAt: null,
    });
    expect(
      egressReportOf({
        egressId: "EG_2",
        status: 6,
        error: "",
        details: "",
        fileResults: [],
        backupStorageUsed: false,
        updatedAt: 0n,
        streamResults: [],
      })?.status,
    ).toBe("EGRESS_LIMIT_REACHED");
    expect(
      egressReportOf({
        egressId: "EG_2",
        status: 42,
        error: "",
        details: "",
        fileResults: [],
        backupStorageUsed: false,
        updatedAt: 0n,
        streamResults: [],
      }),
    ).toBeUndefined();
  });

  it("cancels a recording stopped before its egress began recording", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const created = await store.create({
      room: "r",
      kind: "audio",
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (created.outcome !== "created") throw new Error("not created");
    const { id } = created.recording;
    await store.transition(id, "starting", { reason: "picked up" });
    await store.attachEgress(id, "EG_9", "egress EG_9 started");
    const asked = await store.requestStop(id, "stop requested");
    if (!asked.ok) throw new Error("no stop");
    const aborted = {
      egressId: "EG_9",
      status: "EGRESS_ABORTED" as const,
      error: "Stop called before pipeline could start",
      details: "",
      backupStorageUsed: false,
      streams: [],
      updatedAt: null,
    };
    const outcome = await applyEgressReport(store, asked.recording, aborted, "webhook");
    expect(outcome).toMatchObject({ changed: true, recording: { status: "cancelled" } });
    expect(outcome.failed).toBeUndefined();
  });

  it("ignores reports about states the recording has passed", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    await store.transition(recording.id, "saved", { reason: "file landed before the webhook" });
    const late = await applyEgressReport(
      store,
      recording,
      {
        egressId: "EG_1",
        status: "EGRESS_ENDING",
        error: "",
        details: "",
        backupStorageUsed: false,
        streams: [],
        updatedAt: null,
      },
      "webhook",
    );
    expect(late).toMatchObject({ changed: false, recording: { status: "saved" } });
    const starting = await applyEgressReport(
      store,
      recording,
      {
        egressId: "EG_1",
        status: "EGRESS_STARTING",
        error: "",
        details: "",
        backupStorageUsed: false,
        streams: [],
        updatedAt: null,
      },
      "webhook",
    );
    expect(starting.changed).toBe(false);
  });
});
