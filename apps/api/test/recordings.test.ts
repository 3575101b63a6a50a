import { JOBS } from "@recfleet/queues";
import { type Recording, recordingIdSchema } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Worker } from "bullmq";
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

type RecordingBody = Recording & { links: { self: string; stop: string | null } };

async function create(json: unknown, headers: Record<string, string> = {}) {
  const response = await api.call("/v1/recordings", { method: "POST", json, headers });
  return { response, body: (await response.json()) as RecordingBody & Record<string, unknown> };
}

async function created(room: string, extra: Record<string, unknown> = {}): Promise<RecordingBody> {
  const { response, body } = await create({ room, ...extra });
  expect(response.status).toBe(202);
  return body;
}

describe("POST /v1/recordings", () => {
  it("answers 202 with the queued recording, its links and a Location header", async () => {
    const { response, body } = await create({
      room: "standup",
      notify: { email: "owner@example.com", locale: "fr" },
      metadata: { meeting: 42 },
    });
    expect(response.status).toBe(202);
    expect(recordingIdSchema.safeParse(body.id).success).toBe(true);
    expect(body).toMatchObject({
      room: "standup",
      kind: "video",
      profile: "low-cpu",
      layout: "speaker",
      status: "queued",
      notify: { email: "owner@example.com", locale: "fr" },
      metadata: { meeting: 42 },
    });
    expect(body.links.self).toBe(`${api.publicUrl}/v1/recordings/${body.id}`);
    expect(body.links.stop).toBe(`${api.publicUrl}/v1/recordings/${body.id}/stop`);
    expect(response.headers.get("location")).toBe(body.links.self);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("queues a start job named start, with the id derived from the recording and a valid payload", async () => {
    const recording = await created("job-room", { kind: "audio", profile: "balanced", layout: "grid" });
    const job = await api.queues.control.getJob(`start-${recording.id}`);
    expect(job?.name).toBe("start");
    expect(job?.id).toBe(`start-${recording.id}`);
    expect(job?.data).toEqual({ recordingId: recording.id });
    expect(JOBS.start.schema.safeParse(job?.data).success).toBe(true);
    expect(await job?.getState()).toBe("waiting");
    expect(recording).toMatchObject({ kind: "audio", profile: "balanced", layout: "grid" });
  });

  it("lets exactly one of 50 concurrent requests for one room through and answers 409 to the others", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        api.call("/v1/recordings", { method: "POST", json: { room: "busy-room" } }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(49);
    const winner = (await responses[statuses.indexOf(202)]?.json()) as RecordingBody;
    const conflict = await problemOf(responses[statuses.indexOf(409)] as Response);
    expect(conflict).toMatchObject({
      type: "https://recfleet.dev/problems/recording-in-progress",
      status: 409,
      existing: {
        id: winner.id,
        status: "queued",
        links: { self: `${api.publicUrl}/v1/recordings/${winner.id}` },
      },
    });
    expect(await api.queues.control.getJob(`start-${winner.id}`)).toBeDefined();
    // The same room may record audio next to video.
    await created("busy-room", { kind: "audio" });
  });

  it("replays the same recording for a repeated Idempotency-Key and body", async () => {
    const headers = { "idempotency-key": "order-1 retry safe" };
    const first = await create({ room: "idem-room", metadata: { a: 1, b: [1, 2] } }, headers);
    expect(first.response.status).toBe(202);
    expect(first.response.headers.get("idempotent-replayed")).toBeNull();
    // Same JSON document with keys in another order: the canonical hash matches.
    const again = await create({ metadata: { b: [1, 2], a: 1 }, room: "idem-room" }, headers);
    expect(again.response.status).toBe(202);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    const listed = await api.call("/v1/recordings?room=idem-room");
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it("queues the start job again when a replayed recording is still queued without one", async () => {
    const headers = { "idempotency-key": "order-lost-job" };
    const first = await create({ room: "lost-job-room" }, headers);
    expect(await api.queues.control.remove(`start-${first.body.id}`)).toBe(1);
    const again = await create({ room: "lost-job-room" }, headers);
    expect(again.response.headers.get("idempotent-replayed")).toBe("true");
    expect((await api.queues.control.getJob(`start-${first.body.id}`))?.name).toBe("start");
  });

  it("answers 422 when an Idempotency-Key comes back with another body", async () => {
    const headers = { "idempotency-key": "order-2" };
    expect((await create({ room: "idem-a" }, headers)).response.status).toBe(202);
    const { response } = await create({ room: "idem-b" }, headers);
    expect(response.status).toBe(422);
  });

  it("refuses a malformed Idempotency-Key with 400", async () => {
    const { response, body } = await create({ room: "idem-bad" }, { "idempotency-key": "a".repeat(256) });
    expect(response.status).toBe(400);
    expect(body.errors).toEqual([expect.objectContaining({ location: "header", field: "Idempotency-Key" })]);
  });

  it("answers 422 listing the valid profiles for an unknown profile", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      json: { room: "profile-room", profile: "ultra" },
    });
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({
      type: "https://recfleet.dev/problems/unknown-profile",
      status: 422,
      errors: [{ location: "body", field: "profile", pointer: "/profile" }],
    });
    expect(problem.validProfiles).toEqual(expect.arrayContaining(["default", "low-cpu", "balanced"]));
    expect(problem.detail).toContain("low-cpu");
  });

  it("answers 400 with one error per problem field, unknown fields included", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      json: { room: "", kind: "film", notify: { email: "nope" }, surprise: true, metadata: [1] },
    });
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({
      type: "https://recfleet.dev/problems/validation-error",
      title: "The request is not valid",
      status: 400,
      instance: "/v1/recordings",
    });
    const fields = (problem.errors as { field: string; pointer: string }[]).map((error) => error.pointer);
    expect(fields).toEqual(
      expect.arrayContaining(["/room", "/kind", "/notify/email", "/surprise", "/metadata"]),
    );
  });

  it("refuses rooms with control characters or more than 256 bytes, and metadata over 4 KiB", async () => {
    for (const json of [
      { room: "bad\u0007room" },
      { room: "é".repeat(129) },
      { room: "ok", metadata: { blob: "x".repeat(4100) } },
    ]) {
      const response = await api.call("/v1/recordings", { method: "POST", json });
      expect(response.status, JSON.stringify(json).slice(0, 40)).toBe(400);
      await problemOf(response);
    }
    // 256 bytes of printable UTF-8 is fine.
    expect((await create({ room: "é".repeat(128) })).response.status).toBe(202);
  });

  it("answers 415 to a body that is not JSON", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      body: "room=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(415);
    expect(await problemOf(response)).toMatchObject({
      type: "https://recfleet.dev/problems/unsupported-media-type",
    });
  });

  it("answers 400 to malformed JSON", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      body: '{"room": ',
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ type: "https://recfleet.dev/problems/malformed-json" });
  });

  it("answers 413 to a body over the limit", async () => {
    const response = await api.call("/v1/recordings", {
      method: "POST",
      json: { room: "big", metadata: { blob: "x".repeat(20_000) } },
    });
    expect(response.status).toBe(413);
    expect(await problemOf(response)).toMatchObject({
      type: "https://recfleet.dev/problems/payload-too-large",
      status: 413,
    });
  });
});

describe("GET /v1/recordings/{id}", () => {
  it("returns the recording with its timeline", async () => {
    const recording = await created("get-room");
    const response = await api.call(`/v1/recordings/${recording.id}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as RecordingBody;
    expect(body).toMatchObject({ id: recording.id, status: "queued" });
    expect(body.timeline).toEqual([
      expect.objectContaining({ status: "queued", reason: "recording requested" }),
    ]);
  });

  it("answers 404 to an unknown id and to a malformed one", async () => {
    for (const id of ["0190f3e5-7b5e-7cc3-9a7e-1f2b3c4d5e6f", "not-an-id", "1234"]) {
      const response = await api.call(`/v1/recordings/${id}`);
      expect(response.status).toBe(404);
      expect(await problemOf(response)).toMatchObject({ type: "https://recfleet.dev/problems/not-found" });
    }
  });
});

describe("GET /v1/recordings", () => {
  it("pages through a room's recordings newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const recording = await created("paged-room", { kind: i % 2 === 0 ? "video" : "audio" });
      ids.push(recording.id);
      // Free the room again for the next one.
      await api.store.transition(recording.id, "cancelled", { reason: "test" });
    }
    const seen: string[] = [];
    let next: string | null = "/v1/recordings?room=paged-room&limit=2";
    while (next) {
      const response = await api.call(next.replace(api.publicUrl, ""));
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        items: RecordingBody[];
        nextCursor: string | null;
        links: { next: string | null };
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      next = page.links.next;
      if (next) expect(next).toContain(`cursor=${page.nextCursor}`);
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by status", async () => {
    const recording = await created("status-room");
    const response = await api.call("/v1/recordings?status=queued&limit=100");
    const page = (await response.json()) as { items: RecordingBody[] };
    expect(page.items.map((item) => item.id)).toContain(recording.id);
    expect(page.items.every((item) => item.status === "queued")).toBe(true);
  });

  it("answers 400 to bad query parameters", async () => {
    for (const query of [
      "limit=0",
      "limit=101",
      "limit=abc",
      "status=sleeping",
      "cursor=zzz",
      "colour=red",
    ]) {
      const response = await api.call(`/v1/recordings?${query}`);
      expect(response.status, query).toBe(400);
      const problem = await problemOf(response);
      expect((problem.errors as { location: string }[])[0]?.location).toBe("query");
    }
  });
});

describe("POST /v1/recordings/{id}/stop", () => {
  it("cancels a queued recording and takes its start job off the queue", async () => {
    const recording = await created("cancel-room");
    expect(await api.queues.control.getJob(`start-${recording.id}`)).toBeDefined();
    const response = await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" });
    expect(response.status).toBe(202);
    const body = (await response.json()) as RecordingBody;
    expect(body.status).toBe("cancelled");
    expect(body.links.stop).toBeNull();
    expect(await api.queues.control.getJob(`start-${recording.id}`)).toBeUndefined();
    // The room is free again.
    await created("cancel-room");
  });

  it("queues a stop job when a recorder already holds the start job", async () => {
    // Its own key prefix: the worker below must find only this recording's start job.
    const own = await startTestApi({ redisUrl: redis.url });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = new Worker("control", () => held, { connection: { url: redis.url }, prefix: own.prefix });
    try {
      const picked = new Promise<void>((resolve) => worker.on("active", () => resolve()));
      const response = await own.call("/v1/recordings", { method: "POST", json: { room: "locked-room" } });
      const recording = (await response.json()) as RecordingBody;
      await picked;
      const stop = await own.call(`/v1/recordings/${recording.id}/stop`, {
        method: "POST",
        json: { reason: "meeting over" },
      });
      expect(stop.status).toBe(202);
      const body = (await stop.json()) as RecordingBody;
      expect(body.status).toBe("cancelled");
      expect(body.timeline.at(-1)?.reason).toBe("cancelled through the API before it started: meeting over");
      expect(await own.queues.control.getJob(`start-${recording.id}`).then((job) => job?.getState())).toBe(
        "active",
      );
      const job = await own.queues.control.getJob(`stop-${recording.id}`);
      expect(job?.name).toBe("stop");
      expect(job?.data).toEqual({ recordingId: recording.id, reason: "meeting over" });
    } finally {
      release();
      await worker.close();
      await own.close();
    }
  });

  it("asks a running recording to stop with a stop job, and refuses a second stop with 409", async () => {
    const recording = await created("running-room");
    await api.store.transition(recording.id, "starting", { reason: "test: picked up" });
    await api.store.transition(recording.id, "active", { reason: "test: egress active", egressId: "EG_run" });
    const first = await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" });
    expect(first.status).toBe(202);
    const body = (await first.json()) as RecordingBody;
    expect(body).toMatchObject({ status: "active", stopRequested: true });
    expect(body.timeline.at(-1)?.reason).toBe("stop requested through the API");
    const job = await api.queues.control.getJob(`stop-${recording.id}`);
    expect(job?.data).toEqual({ recordingId: recording.id });
    const second = await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" });
    expect(second.status).toBe(409);
    expect(await problemOf(second)).toMatchObject({
      type: "https://recfleet.dev/problems/stop-already-requested",
      recording: { id: recording.id, status: "active" },
    });
  });

  it("accepts exactly one of many stops sent at once, and answers the others stop-already-requested", async () => {
    const recording = await created("stampede-room");
    await api.store.transition(recording.id, "starting", { reason: "test: picked up" });
    await api.store.transition(recording.id, "active", {
      reason: "test: egress active",
      egressId: "EG_herd",
    });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([202, ...Array.from({ length: 11 }, () => 409)]);
    for (const answer of answers.filter((item) => item.status === 409)) {
      expect((await problemOf(answer)).type).toBe("https://recfleet.dev/problems/stop-already-requested");
    }
  });

  it("answers 409 to stopping a cancelled or finished recording", async () => {
    const recording = await created("finished-room");
    expect((await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" })).status).toBe(202);
    const again = await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(await problemOf(again)).toMatchObject({
      type: "https://recfleet.dev/problems/recording-not-in-progress",
      recording: { status: "cancelled" },
    });
  });

  it("answers 404 to stopping an unknown recording and 400 to an unknown body field", async () => {
    const unknown = await api.call("/v1/recordings/0190f3e5-7b5e-7cc3-9a7e-1f2b3c4d5e6f/stop", {
      method: "POST",
    });
    expect(unknown.status).toBe(404);
    const recording = await created("stop-body-room");
    const bad = await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST", json: { why: "x" } });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).errors).toEqual([
      { location: "body", field: "why", pointer: "/why", message: "unknown field" },
    ]);
  });
});
