import type { Recording } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemOf, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({ redisUrl: redis.url });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

const patch = (id: string, json: unknown) => api.call(`/v1/recordings/${id}`, { method: "PATCH", json });

describe("PATCH /v1/recordings/{id}", () => {
  it("stores a new layout, notes it and queues one update-layout job per change", async () => {
    const created = (await (
      await api.call("/v1/recordings", { method: "POST", json: { room: "layout-room" } })
    ).json()) as Recording;
    await api.store.transition(created.id, "starting", { reason: "test" });
    await api.store.transition(created.id, "active", { reason: "test", egressId: "EG_layout" });
    const changed = await patch(created.id, { layout: "grid-light" });
    expect(changed.status).toBe(202);
    const body = (await changed.json()) as Recording;
    expect(body.layout).toBe("grid-light");
    expect(body.timeline.at(-1)?.reason).toBe("layout changed to grid-light through the API");
    const jobs = await api.queues.control.getJobs(["waiting", "delayed"]);
    const layoutJobs = jobs.filter(
      (job) => job.name === "update-layout" && job.data.recordingId === created.id,
    );
    expect(layoutJobs).toHaveLength(1);
    // The same layout again changes nothing and queues nothing.
    expect((await patch(created.id, { layout: "grid-light" })).status).toBe(202);
    const again = (await api.queues.control.getJobs(["waiting", "delayed"])).filter(
      (job) => job.name === "update-layout",
    );
    expect(again).toHaveLength(1);
    // Unless its job was lost (the API died before queueing it): the retry queues it, same id.
    await again[0]?.remove();
    expect((await patch(created.id, { layout: "grid-light" })).status).toBe(202);
    const requeued = (await api.queues.control.getJobs(["waiting", "delayed"])).filter(
      (job) => job.name === "update-layout",
    );
    expect(requeued.map((job) => job.id)).toEqual([again[0]?.id]);
  });

  it("refuses a bad layout, another source, and a recording that ended", async () => {
    const created = (await (
      await api.call("/v1/recordings", { method: "POST", json: { room: "layout-2" } })
    ).json()) as Recording;
    const bad = await patch(created.id, { layout: "tiles" });
    expect(bad.status).toBe(400);
    expect(((await problemOf(bad)).errors as { pointer: string }[])[0]?.pointer).toBe("/layout");
    expect((await patch(created.id, { layout: "grid", kind: "audio" })).status).toBe(400);
    const participant = (await (
      await api.call("/v1/recordings", {
        method: "POST",
        json: { room: "layout-2", source: { type: "participant", identity: "ann" } },
      })
    ).json()) as Recording;
    const other = await patch(participant.id, { layout: "grid" });
    expect(other.status).toBe(400);
    expect((await problemOf(other)).detail).toBe("layout: applies to a room source only");
    await api.store.transition(created.id, "cancelled", { reason: "test" });
    const ended = await patch(created.id, { layout: "grid" });
    expect(ended.status).toBe(409);
    expect((await problemOf(ended)).detail).toBe(
      `Recording ${created.id} is cancelled: its layout can no longer change.`,
    );
    expect((await patch("0193f1c2-5a7b-7c3d-9e4f-0a1b2c3d4e5f", { layout: "grid" })).status).toBe(404);
  });
});
