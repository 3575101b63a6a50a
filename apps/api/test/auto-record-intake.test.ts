// The API's half of auto-record: every verified room, participant and track webhook of a room a
// rule matches goes to the recorder as one room-event job (the webhook's id is the job's, so a
// re-delivery queues nothing new); rooms no rule matches queue nothing.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedWebhook, startTestApi, type TestApi } from "./support.ts";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  const rules = join(mkdtempSync(join(tmpdir(), "recfleet-rules-")), "rules.yaml");
  writeFileSync(
    rules,
    ["rules:", "  - name: people", '    match: "class-*"', "    trigger: participant_joined"].join("\n"),
  );
  api = await startTestApi({ redisUrl: redis.url, autoRecordFile: rules });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

async function deliver(body: unknown) {
  const { body: text, headers } = await signedWebhook(body);
  const response = await fetch(`${api.url}/v1/webhooks/livekit`, { method: "POST", body: text, headers });
  expect(response.status).toBe(200);
  return (await response.json()) as { outcome: string; detail: string };
}

const roomEvents = async () =>
  (await api.queues.control.getJobs(["waiting", "delayed", "prioritized"])).filter(
    (job) => job.name === "room-event",
  );

describe("room events for the auto-record rules", () => {
  it("queues one room-event job per webhook of a matching room, with what the rules read", async () => {
    const joined = {
      event: "participant_joined",
      id: "EV_joined_1",
      createdAt: "1796400000",
      room: { sid: "RM_class1", name: "class-1" },
      participant: { sid: "PA_ana", identity: "ana", kind: "STANDARD" },
    };
    const answer = await deliver(joined);
    expect(answer).toMatchObject({ outcome: "applied" });
    expect(answer.detail).toMatch(/queued for the auto-record rules$/);
    await deliver(joined);
    await deliver({
      event: "track_published",
      id: "EV_track_1",
      createdAt: "1796400001",
      room: { sid: "RM_class1", name: "class-1" },
      participant: { sid: "PA_ana", identity: "ana" },
      track: { sid: "TR_cam", type: "VIDEO" },
    });
    const jobs = await roomEvents();
    expect(jobs.map((job) => job.data).sort((a, b) => a.eventId.localeCompare(b.eventId))).toEqual([
      {
        event: "participant_joined",
        eventId: "EV_joined_1",
        room: "class-1",
        roomSid: "RM_class1",
        participant: { sid: "PA_ana", identity: "ana", kind: "standard" },
        track: null,
        createdAt: 1796400000,
      },
      {
        event: "track_published",
        eventId: "EV_track_1",
        room: "class-1",
        roomSid: "RM_class1",
        participant: { sid: "PA_ana", identity: "ana", kind: "standard" },
        track: { sid: "TR_cam", type: "video" },
        createdAt: 1796400001,
      },
    ]);
  });

  it("queues nothing for a room no rule matches, nor for an event without what it is about", async () => {
    const before = (await roomEvents()).length;
    const other = await deliver({
      event: "participant_joined",
      id: "EV_other",
      createdAt: "1",
      room: { sid: "RM_other", name: "standup" },
      participant: { sid: "PA_bo", identity: "bo" },
    });
    expect(other.outcome).toBe("ignored");
    await deliver({
      event: "participant_left",
      id: "EV_bare",
      createdAt: "1",
      room: { sid: "RM_class2", name: "class-2" },
    });
    expect((await roomEvents()).length).toBe(before);
  });
});
