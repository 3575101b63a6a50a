import {
  type Delivery,
  DeliveryLog,
  type Recording,
  RecordingStore,
  webhookIdOf,
} from "@recfleet/recordings";
import { startRedis, type TestRedis, uniquePrefix } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, problemOf, ROTATED_KEY, startTestApi, type TestApi } from "./support.ts";

const ACME = "acme-key-0123456789abcdef";
const ACME_NEXT = "acme-next-key-0123456789ab";
const GLOBEX = "globex-key-0123456789abcd";
const ADMIN = "ops-admin-key-0123456789ab";
const READER = "reader-key-0123456789abcd";
const LIMITED = "limited-key-0123456789abc";
const HOURLY = "hourly-key-0123456789abcd";

let redis: TestRedis;
let api: TestApi;
beforeAll(async () => {
  redis = await startRedis();
  api = await startTestApi({
    redisUrl: redis.url,
    apiKeys: [API_KEY, ROTATED_KEY, `acme=${ACME}`, `globex=${GLOBEX}`],
    tenantsFile: {
      tenants: {
        acme: {
          keys: [ACME_NEXT],
          recipientDomains: ["acme.example"],
          callback: {
            url: "https://hooks.acme.example/recfleet",
            secret: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
            events: ["recording.ready", "recording.failed"],
          },
        },
        ops: { keys: [ADMIN], scopes: ["admin"] },
        reader: { keys: [READER], scopes: ["recordings:read"] },
        limited: { keys: [LIMITED], limits: { concurrentRecordings: 2 } },
        hourly: { keys: [HOURLY], limits: { recordingsPerHour: 1 } },
      },
    },
  });
});
afterAll(async () => {
  await api?.close();
  await redis?.stop();
});

type Body = Recording & { links: { self: string } } & Record<string, unknown>;

async function start(key: string, json: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await api.call("/v1/recordings", { method: "POST", json, key, headers });
  return { response, body: (await response.json()) as Body };
}

async function started(key: string, room: string): Promise<Body> {
  const { response, body } = await start(key, { room });
  expect(response.status, JSON.stringify(body)).toBe(202);
  return body;
}

const ids = async (key: string, query = "") => {
  const response = await api.call(`/v1/recordings${query}`, { key });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Body[] }).items.map((item) => item.id);
};

describe("tenants", () => {
  it("keep every recording to its tenant on every route: get, list, filters, stop", async () => {
    const mine = await started(ACME, "iso-acme");
    const theirs = await started(GLOBEX, "iso-globex");
    expect(mine.tenant).toBe("acme");
    expect(theirs.tenant).toBe("globex");

    for (const path of [`/v1/recordings/${theirs.id}`]) {
      const response = await api.call(path, { key: ACME });
      expect(response.status).toBe(404);
      const problem = await problemOf(response);
      expect(JSON.stringify(problem)).not.toContain("globex");
    }
    const stop = await api.call(`/v1/recordings/${theirs.id}/stop`, { method: "POST", key: ACME });
    expect(stop.status).toBe(404);
    expect((await api.store.get(theirs.id))?.status).toBe("queued");

    const acmeList = await ids(ACME);
    expect(acmeList).toContain(mine.id);
    expect(acmeList).not.toContain(theirs.id);
    expect(await ids(ACME, "?room=iso-globex")).toEqual([]);
    expect(await ids(ACME, "?status=queued")).not.toContain(theirs.id);
    expect(await ids(ACME, "?room=iso-acme&status=queued")).toEqual([mine.id]);
    expect(await ids(GLOBEX)).not.toContain(mine.id);

    // A second key of the same tenant (rotation) sees the same recordings.
    expect((await api.call(`/v1/recordings/${mine.id}`, { key: ACME_NEXT })).status).toBe(200);
    const stopped = await api.call(`/v1/recordings/${mine.id}/stop`, { method: "POST", key: ACME_NEXT });
    expect(stopped.status).toBe(202);
  });

  it("answer a room conflict with 409 without naming another tenant's recording", async () => {
    const theirs = await started(GLOBEX, "shared-room");
    const { response, body } = await start(ACME, { room: "shared-room" });
    expect(response.status).toBe(409);
    expect(body.type).toBe("https://recfleet.dev/problems/recording-in-progress");
    expect(JSON.stringify(body)).not.toContain(theirs.id);
    expect(body).not.toHaveProperty("existing");
    // The owner is told which of its recordings holds the room.
    const own = await start(GLOBEX, { room: "shared-room" });
    expect(own.response.status).toBe(409);
    expect(own.body.existing).toMatchObject({ id: theirs.id });
  });

  it("give the admin scope every tenant's recordings, and a tenant filter only to it", async () => {
    const a = await started(ACME, "admin-a");
    const g = await started(GLOBEX, "admin-g");
    const all = await ids(ADMIN);
    expect(all).toEqual(expect.arrayContaining([a.id, g.id]));
    expect(await ids(ADMIN, "?tenant=acme")).toContain(a.id);
    expect(await ids(ADMIN, "?tenant=acme")).not.toContain(g.id);
    expect((await api.call(`/v1/recordings/${g.id}`, { key: ADMIN })).status).toBe(200);
    const filtered = await api.call("/v1/recordings?tenant=globex", { key: ACME });
    expect(filtered.status).toBe(403);
    expect((await problemOf(filtered)).type).toBe("https://recfleet.dev/problems/forbidden");
  });

  it("refuse what a key's scopes do not allow with 403", async () => {
    const recording = await started(ACME, "scoped");
    const create = await start(READER, { room: "reader-room" });
    expect(create.response.status).toBe(403);
    expect(create.body.detail).toContain("recordings:write");
    expect((await api.call("/v1/recordings", { key: READER })).status).toBe(200);
    // Its own tenant has no recordings; another's stays a 404, not a 403 that would confirm it.
    expect((await api.call(`/v1/recordings/${recording.id}`, { key: READER })).status).toBe(404);
    expect(
      (await api.call(`/v1/recordings/${recording.id}/stop`, { method: "POST", key: READER })).status,
    ).toBe(403);
  });

  it("scope Idempotency-Keys by tenant: a rotated key replays, another tenant's key is apart", async () => {
    const headers = { "idempotency-key": "order-77" };
    const first = await start(API_KEY, { room: "idem-tenant" }, headers);
    expect(first.response.status).toBe(202);
    const rotated = await start(ROTATED_KEY, { room: "idem-tenant" }, headers);
    expect(rotated.response.status).toBe(202);
    expect(rotated.response.headers.get("idempotent-replayed")).toBe("true");
    expect(rotated.body.id).toBe(first.body.id);
    const other = await start(GLOBEX, { room: "idem-tenant-globex" }, headers);
    expect(other.response.status).toBe(202);
    expect(other.body.id).not.toBe(first.body.id);
  });

  it("email only the tenant's recipient domains (subdomains included)", async () => {
    const refused = await start(ACME, { room: "mail-1", notify: { email: "someone@elsewhere.example" } });
    expect(refused.response.status).toBe(422);
    expect(refused.body).toMatchObject({
      type: "https://recfleet.dev/problems/recipient-not-allowed",
      errors: [{ field: "notify.email", pointer: "/notify/email" }],
    });
    const lookalike = await start(ACME, { room: "mail-2", notify: { email: "x@evilacme.example" } });
    expect(lookalike.response.status).toBe(422);
    const sub = await start(ACME, { room: "mail-3", notify: { email: "owner@eu.acme.example" } });
    expect(sub.response.status).toBe(202);
    // A tenant without a list may email any domain.
    const open = await start(GLOBEX, { room: "mail-4", notify: { email: "a@anywhere.example" } });
    expect(open.response.status).toBe(202);
  });

  it("hold a tenant to its concurrent recordings, atomically, and free a place when one ends", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_, i) => start(LIMITED, { room: `limited-${i}` })),
    );
    const accepted = attempts.filter((attempt) => attempt.response.status === 202);
    const refused = attempts.filter((attempt) => attempt.response.status === 429);
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(4);
    expect(refused[0]?.response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(refused[0]?.body).toMatchObject({
      type: "https://recfleet.dev/problems/rate-limited",
      limit: { name: "concurrentRecordings", value: 2 },
    });
    const first = accepted[0]?.body.id ?? "";
    expect((await api.call(`/v1/recordings/${first}/stop`, { method: "POST", key: LIMITED })).status).toBe(
      202,
    );
    expect((await start(LIMITED, { room: "limited-after" })).response.status).toBe(202);
  });
});

describe("DELETE /v1/recordings/{id}", () => {
  it("stops a recording in progress, marks it for deletion and queues its delete job; again: the same", async () => {
    const recording = await started(ACME, "delete-me");
    const response = await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: ACME });
    expect(response.status).toBe(202);
    const body = (await response.json()) as Body & { deleteRequested: { tenant: string } | null };
    expect(body.deleteRequested).toMatchObject({ tenant: "acme" });
    expect(body.stopRequested).toBe(true);
    const control = api.queues.control;
    expect(await control.getJob(`delete-${recording.id}`)).toBeDefined();
    expect((await control.getJob(`stop-${recording.id}`))?.data).toEqual({
      recordingId: recording.id,
      reason: "deleted",
    });
    const again = await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: ACME_NEXT });
    expect(again.status).toBe(202);
    const timeline = (await api.store.get(recording.id))?.timeline ?? [];
    expect(timeline.filter((entry) => entry.reason.startsWith("deletion requested"))).toHaveLength(1);
  });

  it("answers 200 with the tombstone once deleted", async () => {
    const recording = await started(ACME, "deleted-already");
    await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: ACME });
    // What the recorder does once egress is done with the files.
    await api.store.transition(recording.id, "cancelled", { reason: "test: stopped before it started" });
    await api.store.transition(recording.id, "deleted", { reason: "test: files removed" });
    const response = await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: ACME });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Body).status).toBe("deleted");
  });

  it("is another tenant's 404 and a reader's 403, and changes nothing", async () => {
    const recording = await started(ACME, "not-yours");
    expect((await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: GLOBEX })).status).toBe(
      404,
    );
    expect((await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE", key: READER })).status).toBe(
      403,
    );
    expect((await api.store.get(recording.id))?.deleteRequested).toBeNull();
    expect(await api.queues.control.getJob(`delete-${recording.id}`)).toBeUndefined();
  });
});

describe("recordings made before tenants", () => {
  it("are listed under tenant default once the store backfills its indexes, and only once", async () => {
    const prefix = uniquePrefix("legacy");
    const store = new RecordingStore({ redis: api.redis, prefix, retentionDays: 1 });
    const made = await store.create({
      room: "legacy",
      kind: "video",
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (made.outcome !== "created") throw new Error("not created");
    // As an older version wrote it: no tenant in the document and in no tenant index.
    const key = `${prefix}:rec:id:${made.recording.id}`;
    const { tenant: _, ...legacy } = made.recording;
    await api.redis.hset(key, "doc", JSON.stringify(legacy));
    await api.redis.del(`${prefix}:rec:tenant:default:all`, `${prefix}:rec:tenant:default:status:queued`);
    expect((await store.list({ tenant: "default", limit: 10 })).items).toEqual([]);

    expect(await store.backfillTenantIndexes()).toBe(1);
    const listed = await store.list({ tenant: "default", status: "queued", limit: 10 });
    expect(listed.items.map((item) => [item.id, item.tenant])).toEqual([[made.recording.id, "default"]]);
    expect(await store.backfillTenantIndexes()).toBe(0);
  });
});

describe("hourly limits", () => {
  it("replay a request retried with its Idempotency-Key even once the hour's limit is reached", async () => {
    const headers = { "idempotency-key": "hourly-retry-1" };
    const first = await start(HOURLY, { room: "hourly-replay" }, headers);
    expect(first.response.status).toBe(202);
    const retried = await start(HOURLY, { room: "hourly-replay" }, headers);
    expect(retried.response.status).toBe(202);
    expect(retried.body.id).toBe(first.body.id);
    // A new request is over the limit.
    const another = await start(HOURLY, { room: "hourly-another" }, { "idempotency-key": "hourly-retry-2" });
    expect(another.response.status).toBe(429);
  });
});

describe("callback deliveries", () => {
  const delivery = (recordingId: string, patch: Partial<Delivery> = {}): Delivery => ({
    id: webhookIdOf(recordingId, "recording.ready"),
    event: "recording.ready",
    occurredAt: "2026-12-01T10:00:00.000Z",
    state: "failed",
    attempts: [
      {
        at: "2026-12-01T10:00:01.000Z",
        outcome: "rejected",
        statusCode: 410,
        error: "answered 410",
        durationMs: 12,
      },
    ],
    attemptCount: 1,
    failingSince: null,
    nextAttemptAt: null,
    resends: 0,
    ...patch,
  });
  const log = () => new DeliveryLog(api.redis, api.prefix, 60_000);

  it("are listed to the recording's tenant only, and a resend queues one job per resend", async () => {
    const mine = await started(ACME, "deliveries-acme");
    await log().put(
      mine.id,
      delivery(mine.id, { state: "pending", nextAttemptAt: "2026-12-01T10:05:00.000Z" }),
    );

    const listed = await api.call(`/v1/recordings/${mine.id}/deliveries`, { key: ACME });
    expect(listed.status).toBe(200);
    const items = ((await listed.json()) as { items: (Delivery & { links: { retry: string | null } })[] })
      .items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: webhookIdOf(mine.id, "recording.ready"),
      state: "pending",
      attemptCount: 1,
    });
    expect(items[0]?.links.retry).toBeNull();
    for (const [path, method] of [
      [`/v1/recordings/${mine.id}/deliveries`, "GET"],
      [`/v1/recordings/${mine.id}/deliveries/${items[0]?.id}/retry`, "POST"],
    ] as const) {
      expect((await api.call(path, { key: GLOBEX, method })).status).toBe(404);
    }
    const retry = `/v1/recordings/${mine.id}/deliveries/${webhookIdOf(mine.id, "recording.ready")}/retry`;
    const busy = await api.call(retry, { key: ACME, method: "POST" });
    expect(busy.status).toBe(409);
    expect((await problemOf(busy)).type).toBe("https://recfleet.dev/problems/delivery-in-progress");
    expect((await api.call(retry, { key: READER, method: "POST" })).status).toBe(403);

    await log().put(mine.id, delivery(mine.id));
    const resent = await api.call(retry, { key: ACME, method: "POST" });
    expect(resent.status).toBe(202);
    expect(await resent.json()).toMatchObject({ state: "pending", resends: 1, attemptCount: 1 });
    const job = await api.queues.notifications.getJob(`callback-recording.ready-${mine.id}-resend-1`);
    expect(job?.data).toEqual({
      recordingId: mine.id,
      event: "recording.ready",
      occurredAt: "2026-12-01T10:00:00.000Z",
      resend: 1,
    });
    expect((await api.call(retry, { key: ACME, method: "POST" })).status).toBe(409);

    const unknown = await api.call(`/v1/recordings/${mine.id}/deliveries/msg_nope/retry`, {
      key: ACME,
      method: "POST",
    });
    expect(unknown.status).toBe(404);
  });

  it("are not resent for a tenant without a callback for the event", async () => {
    const theirs = await started(GLOBEX, "deliveries-globex");
    await log().put(theirs.id, delivery(theirs.id));
    const retry = await api.call(
      `/v1/recordings/${theirs.id}/deliveries/${webhookIdOf(theirs.id, "recording.ready")}/retry`,
      { key: GLOBEX, method: "POST" },
    );
    expect(retry.status).toBe(409);
    expect((await problemOf(retry)).type).toBe("https://recfleet.dev/problems/no-callback");
    expect(
      await api.queues.notifications.getJob(`callback-recording.ready-${theirs.id}-resend-1`),
    ).toBeUndefined();
  });
});
