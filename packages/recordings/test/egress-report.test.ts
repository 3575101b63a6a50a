import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEgressReport, egressReportOf, type Recording, RecordingStore } from "../src/index.ts";

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

async function activeRecording(store: RecordingStore): Promise<Recording> {
  const created = await store.create({
    room: `room-${uniquePrefix()}`,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error("not created");
  await store.transition(created.recording.id, "starting", { reason: "picked up" });
  const active = await store.transition(created.recording.id, "active", {
    reason: "started",
    egressId: "EG_1",
  });
  if (!active.ok) throw new Error("not active");
  return active.recording;
}

describe("applyEgressReport", () => {
  it("records a completed egress with its file, once", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const report = {
      egressId: "EG_1",
      status: "EGRESS_COMPLETE" as const,
      error: "",
      details: "",
      file: { filename: `recordings/${recording.id}.mp4`, size: 1234 },
    };
    const first = await applyEgressReport(store, recording, report, "webhook");
    expect(first).toMatchObject({
      changed: true,
      recording: {
        status: "stopped",
        file: { key: `recordings/${recording.id}.mp4`, size: 1234, etag: null, contentType: "video/mp4" },
      },
    });
    const again = await applyEgressReport(store, first.recording, report, "webhook");
    expect(again.changed).toBe(false);
    expect((await store.get(recording.id))?.timeline).toHaveLength(4);
  });

  it("fails the recording on EGRESS_FAILED and reports the failure again on a repeat", async () => {
    const store = new RecordingStore({ redis, prefix: uniquePrefix(), retentionDays: 1 });
    const recording = await activeRecording(store);
    const report = {
      egressId: "EG_1",
      status: "EGRESS_FAILED" as const,
      error: "pipeline crashed",
      details: "",
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
      { egressId: "EG_1", status: "EGRESS_FAILED", error: "x", details: "" },
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
        fileResults: [{ filename: "recordings/x.ogg", size: 2048n }],
      }),
    ).toEqual({
      egressId: "EG_2",
      status: "EGRESS_COMPLETE",
      error: "",
      details: "",
      file: { filename: "recordings/x.ogg", size: 2048 },
    });
    expect(
      egressReportOf({ egressId: "EG_2", status: 6, error: "", details: "", fileResults: [] })?.status,
    ).toBe("EGRESS_LIMIT_REACHED");
    expect(
      egressReportOf({ egressId: "EG_2", status: 42, error: "", details: "", fileResults: [] }),
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
      { egressId: "EG_1", status: "EGRESS_ENDING", error: "", details: "" },
      "webhook",
    );
    expect(late).toMatchObject({ changed: false, recording: { status: "saved" } });
    const starting = await applyEgressReport(
      store,
      recording,
      { egressId: "EG_1", status: "EGRESS_STARTING", error: "", details: "" },
      "webhook",
    );
    expect(starting.changed).toBe(false);
  });
});
