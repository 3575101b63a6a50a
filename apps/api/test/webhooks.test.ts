import type { Recording } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { egressEvent, problemOf, signedWebhook, startTestApi, type TestApi } from "./support.ts";

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

let rooms = 0;
/** A recording a recorder has started: starting, with its egress attached. */
async function startedRecording(egressId: string, kind: Recording["kind"] = "video"): Promise<Recording> {
  rooms += 1;
  const created = await api.store.create({
    room: `webhook-room-${rooms}`,
    kind,
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error(created.outcome);
  const { id } = created.recording;
  const filepath = `recordings/${id}.${kind === "video" ? "mp4" : "ogg"}`;
  const started = await api.store.transition(id, "starting", {
    reason: "test: egress started",
    egressId,
    // As a recorder plans it, here with an egress fleet that puts its files under "eu/".
    output: {
      bucket: "recordings",
      file: {
        filepath,
        key: `eu/${filepath}`,
        contentType: kind === "video" ? "video/mp4" : "audio/ogg",
        backup: null,
      },
      hls: null,
      images: null,
    },
  });
  if (!started.ok) throw new Error("could not start");
  return started.recording;
}

async function deliver(body: unknown, signed = signedWebhook(body)) {
  const { body: text, headers } = await signed;
  return fetch(`${api.url}/v1/webhooks/livekit`, { method: "POST", body: text, headers });
}

async function statusOf(id: string) {
  return (await api.store.get(id))?.status;
}

describe("POST /v1/webhooks/livekit", () => {
  it("moves a recording starting → active → stopping → stopped and records its file", async () => {
    const recording = await startedRecording("EG_happy");
    const started = await deliver(egressEvent("egress_started", "EG_happy", "EGRESS_STARTING"));
    expect(started.status).toBe(200);
    expect(await statusOf(recording.id)).toBe("starting");

    const active = await deliver(egressEvent("egress_updated", "EG_happy", "EGRESS_ACTIVE"));
    expect(active.status).toBe(200);
    expect(await active.json()).toEqual({
      outcome: "applied",
      detail: "recording is now active",
      recordingId: recording.id,
    });
    expect(await statusOf(recording.id)).toBe("active");

    await deliver(egressEvent("egress_updated", "EG_happy", "EGRESS_ENDING"));
    expect(await statusOf(recording.id)).toBe("stopping");

    const ended = await deliver(
      egressEvent("egress_ended", "EG_happy", "EGRESS_COMPLETE", {
        fileResults: [
          {
            filename: `recordings/${recording.id}.mp4`,
            size: "48213",
            location: `http://minio:9000/recordings/eu/recordings/${recording.id}.mp4`,
          },
        ],
      }),
    );
    expect(ended.status).toBe(200);
    const stored = await api.store.get(recording.id);
    expect(stored).toMatchObject({
      status: "stopped",
      file: {
        bucket: "recordings",
        key: `eu/recordings/${recording.id}.mp4`,
        size: 48213,
        etag: null,
        contentType: "video/mp4",
      },
    });
    expect(stored?.timeline.map((entry) => entry.status)).toEqual([
      "queued",
      "starting",
      "active",
      "stopping",
      "stopped",
    ]);
    expect(stored?.timeline.at(-1)?.reason).toMatch(/^egress EG_\w+ complete \(webhook\)$/);
  });

  it("stops with reason limit_reached when egress hit its limit", async () => {
    const recording = await startedRecording("EG_limit", "audio");
    await deliver(egressEvent("egress_updated", "EG_limit", "EGRESS_ACTIVE"));
    await deliver(
      egressEvent("egress_ended", "EG_limit", "EGRESS_LIMIT_REACHED", {
        fileResults: [{ filename: `recordings/${recording.id}.ogg`, size: "100", location: "x" }],
      }),
    );
    const stored = await api.store.get(recording.id);
    expect(stored).toMatchObject({ status: "stopped", file: { contentType: "audio/ogg", size: 100 } });
    expect(stored?.timeline.at(-1)?.reason).toMatch(/^limit_reached: /);
  });

  it("does not take a file the recording did not ask for, even from a signed webhook", async () => {
    const victim = await startedRecording("EG_victim");
    const recording = await startedRecording("EG_foreign");
    await deliver(egressEvent("egress_updated", "EG_foreign", "EGRESS_ACTIVE"));
    const ended = await deliver(
      egressEvent("egress_ended", "EG_foreign", "EGRESS_COMPLETE", {
        fileResults: [{ filename: `recordings/${victim.id}.mp4`, size: "10", location: "x" }],
      }),
    );
    expect(ended.status).toBe(200);
    // Stopped (egress did end), but with no file: only the bucket can say it was saved.
    expect(await api.store.get(recording.id)).toMatchObject({ status: "stopped", file: null });
    expect(await api.store.get(victim.id)).toMatchObject({ status: "starting", file: null });
  });

  it("fails as stored_in_backup when egress wrote the file to a backup storage recfleet does not read", async () => {
    const recording = await startedRecording("EG_backup");
    await deliver(
      egressEvent("egress_ended", "EG_backup", "EGRESS_COMPLETE", {
        backupStorageUsed: true,
        fileResults: [
          {
            filename: `recordings/${recording.id}.mp4`,
            size: "10",
            location: `https://spill.example.com/recordings/${recording.id}.mp4`,
          },
        ],
      }),
    );
    const stored = await api.store.get(recording.id);
    expect(stored).toMatchObject({ status: "failed", file: null, error: { code: "stored_in_backup" } });
    expect(stored?.timeline.at(-1)?.reason).toContain(
      `https://spill.example.com/recordings/${recording.id}.mp4`,
    );
    expect((await api.queues.notifications.getJob(`failed-${recording.id}`))?.data).toEqual({
      recordingId: recording.id,
      reason: "stored_in_backup",
    });
  });

  it("fails the recording on EGRESS_FAILED and queues a recording-failed notification", async () => {
    const recording = await startedRecording("EG_fail");
    const response = await deliver(
      egressEvent("egress_ended", "EG_fail", "EGRESS_FAILED", { error: "pipeline crashed" }),
    );
    expect(response.status).toBe(200);
    expect(await api.store.get(recording.id)).toMatchObject({
      status: "failed",
      error: { code: "egress_failed", message: "pipeline crashed" },
    });
    const job = await api.queues.notifications.getJob(`failed-${recording.id}`);
    expect(job?.name).toBe("recording-failed");
    expect(job?.data).toEqual({ recordingId: recording.id, reason: "egress_failed" });
  });

  it("fails the recording as egress_aborted on EGRESS_ABORTED", async () => {
    const recording = await startedRecording("EG_abort");
    await deliver(egressEvent("egress_ended", "EG_abort", "EGRESS_ABORTED"));
    expect(await api.store.get(recording.id)).toMatchObject({
      status: "failed",
      error: { code: "egress_aborted" },
    });
    expect((await api.queues.notifications.getJob(`failed-${recording.id}`))?.data).toEqual({
      recordingId: recording.id,
      reason: "egress_aborted",
    });
  });

  it("fails a recording whose egress was aborted waiting for its start signal as no_start_signal", async () => {
    const recording = await startedRecording("EG_silent");
    await deliver(
      egressEvent("egress_ended", "EG_silent", "EGRESS_ABORTED", { error: "Start signal not received" }),
    );
    const stored = await api.store.get(recording.id);
    expect(stored).toMatchObject({ status: "failed", error: { code: "no_start_signal" } });
    expect(stored?.error?.message).toBe(
      `nobody published in room "${recording.room}", so egress EG_silent never began recording: Start signal not received (webhook)`,
    );
    expect((await api.queues.notifications.getJob(`failed-${recording.id}`))?.data).toEqual({
      recordingId: recording.id,
      reason: "no_start_signal",
    });
  });

  it("answers 413 over its own 1 MiB limit, stating that limit, and reads bodies over the API's 16 KiB", async () => {
    const post = (body: string) =>
      fetch(`${api.url}/v1/webhooks/livekit`, {
        method: "POST",
        headers: { "content-type": "application/webhook+json", authorization: "x" },
        body,
      });
    const large = await post(" ".repeat(64 * 1024));
    expect(large.status).toBe(401);
    const tooLarge = await post(" ".repeat(1024 * 1024 + 1));
    expect(tooLarge.status).toBe(413);
    const problem = await problemOf(tooLarge);
    expect(problem.detail).toBe("The request body is larger than the limit of 1048576 bytes.");
    expect(problem.limitBytes).toBe(1048576);
  });

  it("changes nothing when the same event is delivered again", async () => {
    const recording = await startedRecording("EG_twice");
    const event = egressEvent("egress_updated", "EG_twice", "EGRESS_ACTIVE");
    expect((await deliver(event)).status).toBe(200);
    const again = await deliver(event);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { outcome: string }).outcome).toBe("ignored");
    const stored = await api.store.get(recording.id);
    expect(stored?.timeline.filter((entry) => entry.status === "active")).toHaveLength(1);
  });

  it("ignores an event for a state the recording has already passed", async () => {
    const recording = await startedRecording("EG_late");
    await api.store.transition(recording.id, "saved", {
      reason: "test: file in storage",
      file: { bucket: "recordings", key: "k.mp4", size: 1, etag: "e", contentType: "video/mp4" },
    });
    for (const status of ["EGRESS_COMPLETE", "EGRESS_FAILED"]) {
      const response = await deliver(egressEvent("egress_ended", "EG_late", status));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { outcome: string }).outcome).toBe("ignored");
    }
    expect(await api.store.get(recording.id)).toMatchObject({ status: "saved", file: { etag: "e" } });
    expect(await api.queues.notifications.getJob(`failed-${recording.id}`)).toBeUndefined();
  });

  it("answers 200 and ignores an unknown egress and events that are not about egress", async () => {
    const unknown = await deliver(egressEvent("egress_ended", "EG_nobody", "EGRESS_COMPLETE"));
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ outcome: "ignored", recordingId: null });
    const room = await deliver({ event: "room_started", id: "EV_1", createdAt: "1", room: { name: "r" } });
    expect(room.status).toBe(200);
    expect(((await room.json()) as { outcome: string }).outcome).toBe("ignored");
  });

  it("room_started retries at once a start that waits for its room", async () => {
    const created = await api.store.create({
      room: "room-opens-late",
      kind: "video",
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (created.outcome !== "created") throw new Error(created.outcome);
    const { id } = created.recording;
    await api.store.transition(id, "starting", { reason: "picked up by a recorder" });
    // What the recorder does while the room does not exist: the start job waits, delayed.
    const job = await api.queues.control.add(
      "start",
      { recordingId: id },
      { jobId: `start-${id}`, delay: 600_000 },
    );
    expect(await job.isDelayed()).toBe(true);

    const answer = await deliver({
      event: "room_started",
      id: "EV_room1",
      createdAt: "1",
      room: { sid: "RM_1", name: "room-opens-late" },
    });
    expect(await answer.json()).toMatchObject({ outcome: "applied", recordingId: id });
    expect(await (await api.queues.control.getJob(`start-${id}`))?.isDelayed()).toBe(false);
  });

  it("room_finished cancels a recording that had not begun recording, and leaves one that records", async () => {
    const queued = await api.store.create({
      room: "room-closes",
      kind: "audio",
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (queued.outcome !== "created") throw new Error(queued.outcome);
    const recording = await startedRecording("EG_keeps_recording");
    await api.store.transition(recording.id, "active", { reason: "test: recording" });

    const closes = await deliver({
      event: "room_finished",
      id: "EV_f1",
      createdAt: "1",
      room: { name: "room-closes" },
    });
    expect(await closes.json()).toMatchObject({ outcome: "applied", recordingId: queued.recording.id });
    const cancelled = await api.store.get(queued.recording.id);
    expect(cancelled?.status).toBe("cancelled");
    expect(cancelled?.timeline.at(-1)?.reason).toBe(
      'room "room-closes" closed before anything was recorded (room_finished webhook)',
    );
    // Starting with an egress: its ACTIVE webhook may be on the way; the egress' own end decides.
    const withEgress = await startedRecording("EG_maybe_recording");
    const left = await deliver({
      event: "room_finished",
      id: "EV_f3",
      createdAt: "1",
      room: { name: withEgress.room },
    });
    expect(await left.json()).toMatchObject({ outcome: "ignored" });
    expect((await api.store.get(withEgress.id))?.status).toBe("starting");
    const other = await deliver({
      event: "room_finished",
      id: "EV_f2",
      createdAt: "1",
      room: { name: recording.room },
    });
    expect(await other.json()).toMatchObject({ outcome: "ignored" });
    expect((await api.store.get(recording.id))?.status).toBe("active");
  });

  it("answers 401 to a forged, unsigned or tampered webhook and changes nothing", async () => {
    const recording = await startedRecording("EG_forged");
    const event = egressEvent("egress_updated", "EG_forged", "EGRESS_ACTIVE");
    const forged = await deliver(
      event,
      signedWebhook(event, { key: "APItestkey", secret: "not-the-secret-at-all" }),
    );
    expect(forged.status).toBe(401);
    expect(await problemOf(forged)).toMatchObject({
      type: "https://recfleet.dev/problems/invalid-webhook-signature",
    });
    const { headers } = await signedWebhook(event);
    const unsigned = await fetch(`${api.url}/v1/webhooks/livekit`, {
      method: "POST",
      body: JSON.stringify(event),
      headers: { "content-type": headers["content-type"] as string },
    });
    expect(unsigned.status).toBe(401);
    const tampered = await fetch(`${api.url}/v1/webhooks/livekit`, {
      method: "POST",
      body: JSON.stringify({ ...event, id: "EV_other" }),
      headers,
    });
    expect(tampered.status).toBe(401);
    const bearer = await fetch(`${api.url}/v1/webhooks/livekit`, {
      method: "POST",
      body: JSON.stringify(event),
      headers: { ...headers, authorization: `Bearer ${headers.authorization}` },
    });
    expect(bearer.status).toBe(401);
    expect(await statusOf(recording.id)).toBe("starting");
  });

  it("answers 415 to another content type and 400 to a signed body that is not an event", async () => {
    const event = egressEvent("egress_updated", "EG_x", "EGRESS_ACTIVE");
    const { body, headers } = await signedWebhook(event);
    const text = await fetch(`${api.url}/v1/webhooks/livekit`, {
      method: "POST",
      body,
      headers: { ...headers, "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    await problemOf(text);
    const notJson = await signedWebhook("{not json");
    const odd = await fetch(`${api.url}/v1/webhooks/livekit`, { method: "POST", ...notJson });
    expect(odd.status).toBe(400);
    expect(await problemOf(odd)).toMatchObject({ type: "https://recfleet.dev/problems/malformed-json" });
    const signedGarbage = await signedWebhook({ event: 42, egressInfo: "nope" });
    const garbage = await fetch(`${api.url}/v1/webhooks/livekit`, {
      method: "POST",
      body: signedGarbage.body,
      headers: signedGarbage.headers,
    });
    expect(garbage.status).toBe(400);
    expect(await problemOf(garbage)).toMatchObject({ type: "https://recfleet.dev/problems/malformed-json" });
  });
});
