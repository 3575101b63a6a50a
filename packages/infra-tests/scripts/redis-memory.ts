// Measures what recordings cost in Redis: creates recordings through the real RecordingStore,
// drives each through a typical life (queued → starting → active → stopping → stopped → saved →
// notified, 7 timeline entries), adds and completes its three jobs (start, stop,
// recording-saved) with the real job catalog so BullMQ keeps them as it does in production,
// writes the mailer's sent marker, and reads Redis' own accounting before and after.
import { JobProducer, QUEUE_NAMES, redisOptionsFor } from "@recfleet/queues";
import { newRecordingId, RecordingStore } from "@recfleet/recordings";
import { Worker } from "bullmq";
import { Redis } from "ioredis";

export interface KeyGroup {
  kind: string;
  keys: number;
  /** Sum of MEMORY USAGE of the group's keys, in bytes. */
  bytes: number;
}

export interface MemoryMeasurement {
  recordings: number;
  /** Every key written, grouped by what it is; biggest first. */
  groups: KeyGroup[];
  /** used_memory after − before, in bytes (includes allocator overhead). */
  usedMemoryDelta: number;
  usedMemoryDeltaPerRecording: number;
  /** MEMORY USAGE of one recording's hash (<prefix>:rec:id:<id>). */
  recordingHashBytes: number;
  /** MEMORY USAGE of one completed job's hash (the recording-saved job). */
  completedJobHashBytes: number;
  /** Keys written per recording, all kinds together. */
  keysPerRecording: number;
  /** Length of one stored recording document (JSON). */
  recordingDocumentBytes: number;
}

export interface MeasureOptions {
  redisUrl: string;
  recordings: number;
  prefix: string;
  /** Transitions run this many recordings at a time. */
  parallelism?: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  const value = /^used_memory:(\d+)/m.exec(info)?.[1];
  if (value === undefined) throw new Error("INFO memory has no used_memory");
  return Number(value);
}

function kindOfKey(key: string, prefix: string): string {
  const rest = key.startsWith(`${prefix}:`) ? key.slice(prefix.length + 1) : key;
  if (rest.startsWith("rec:id:")) return "recording hashes (rec:id:*)";
  if (rest.startsWith("rec:room:")) return "room indexes (rec:room:*)";
  if (rest === "rec:all" || rest.startsWith("rec:status:"))
    return "status and list indexes (rec:all, rec:status:*)";
  if (rest.startsWith("rec:egress:")) return "egress id lookups (rec:egress:*)";
  if (rest.startsWith("mail:sent:")) return "mailer sent markers (mail:sent:*)";
  if (/^[a-z-]+:events$/.test(rest)) return "BullMQ event streams (<queue>:events, capped)";
  if (/^[a-z-]+:(start|stop|saved|failed)-/.test(rest)) return "completed job hashes (<queue>:<job id>)";
  if (/^[a-z-]+:completed$/.test(rest)) return "completed job sets (<queue>:completed)";
  return "other BullMQ keys";
}

async function keyGroups(redis: Redis, prefix: string): Promise<KeyGroup[]> {
  const groups = new Map<string, KeyGroup>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    for (const key of keys) {
      const kind = kindOfKey(key, prefix);
      const group = groups.get(kind) ?? { kind, keys: 0, bytes: 0 };
      group.keys += 1;
      group.bytes += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
      groups.set(kind, group);
    }
  } while (cursor !== "0");
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes);
}

async function inBatches<T>(items: T[], size: number, run: (item: T, index: number) => Promise<void>) {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map((item, offset) => run(item, start + offset)));
  }
}

function expectOk(result: { ok: boolean }, what: string): void {
  if (!result.ok) throw new Error(`transition failed: ${what}`);
}

async function completeAll(url: string, prefix: string, queue: string, expected: number): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(queue, async () => "ok", { connection, prefix, concurrency: 50 });
    worker.on("completed", () => {
      done += 1;
      if (done === expected) void worker.close().then(resolve, reject);
    });
    worker.on("failed", (_job, error) => reject(error));
    worker.on("error", reject);
  });
  await connection.quit();
}

export async function measureRedisMemory(options: MeasureOptions): Promise<MemoryMeasurement> {
  const { redisUrl, recordings, prefix } = options;
  const parallelism = options.parallelism ?? 50;
  const redisConfig = { url: redisUrl, prefix, tls: false, commandTimeoutMs: 5000 };
  const client = new Redis(redisUrl, redisOptionsFor("client", redisConfig));
  const producerConnection = new Redis(redisUrl, redisOptionsFor("producer", redisConfig));
  const producer = new JobProducer(producerConnection, prefix, 5000);
  const store = new RecordingStore({ redis: client, prefix, retentionDays: 30 });
  try {
    await Promise.all(QUEUE_NAMES.map((name) => producer.queue(name).waitUntilReady()));
    const before = await usedMemory(client);
    const keysBefore = await client.dbsize();

    const ids: string[] = [];
    await inBatches(
      Array.from({ length: recordings }, (_, i) => i),
      parallelism,
      async (i) => {
        const created = await store.create({
          room: `team-standup-${String(i).padStart(5, "0")}`,
          kind: i % 10 === 0 ? "audio" : "video",
          profile: "low-cpu",
          layout: "speaker",
          notify: { email: `owner-${i}@example.com`, locale: "en" },
          metadata: { meetingId: `mtg-${i}`, title: "Weekly team standup" },
        });
        if (created.outcome !== "created") throw new Error(`create: ${created.outcome}`);
        ids[i] = created.recording.id;
        await producer.enqueue("start", { recordingId: created.recording.id });
      },
    );
    await completeAll(redisUrl, prefix, "control", recordings);

    await inBatches(ids, parallelism, async (id) => {
      // The random end of a UUIDv7 (its start is the timestamp, shared by ids of one millisecond).
      const egressId = `EG_${newRecordingId().replaceAll("-", "").slice(-12)}`;
      const ext = (await store.get(id))?.kind === "audio" ? "ogg" : "mp4";
      const key = `recordings/${id}.${ext}`;
      const contentType = ext === "mp4" ? "video/mp4" : "audio/ogg";
      const output = {
        bucket: "recordings",
        file: { filepath: key, key, contentType, backup: null },
        hls: null,
        images: null,
      };
      expectOk(
        await store.transition(id, "starting", { reason: "picked up by a recorder", output }),
        "starting",
      );
      expectOk(
        await store.transition(id, "active", { egressId, reason: `egress ${egressId} started` }),
        "active",
      );
      await producer.enqueue("stop", { recordingId: id, reason: "meeting ended" });
      expectOk(
        await store.transition(id, "stopping", { reason: `stop sent to egress ${egressId}` }),
        "stopping",
      );
      expectOk(
        await store.transition(id, "stopped", {
          reason: "egress ended (EGRESS_COMPLETE)",
          file: { bucket: "recordings", key, size: 155_000_000, etag: null, contentType },
        }),
        "stopped",
      );
      expectOk(
        await store.transition(id, "saved", {
          reason: "file found in storage (event)",
          file: {
            bucket: "recordings",
            key,
            size: 155_123_456,
            etag: "9b2cf535f27731c974343645a3985328",
            contentType,
          },
        }),
        "saved",
      );
      await producer.enqueue("recording-saved", { recordingId: id });
    });
    await completeAll(redisUrl, prefix, "control", recordings);
    await completeAll(redisUrl, prefix, "notifications", recordings);

    await inBatches(ids, parallelism, async (id, i) => {
      // The mailer's "sent" marker (<prefix>:mail:sent:<kind>:<id>, JSON, kept as long as the record).
      await client.set(
        `${prefix}:mail:sent:saved:${id}`,
        JSON.stringify({
          at: new Date().toISOString(),
          to: `owner-${i}@example.com`,
          messageId: `<${id}@recfleet.example.com>`,
          response: "250 2.0.0 OK: queued as 4F2A1B3C5D",
        }),
        "EX",
        30 * 24 * 3600,
      );
      expectOk(
        await store.transition(id, "notified", { reason: `emailed to owner-${i}@example.com` }),
        "notified",
      );
    });

    const after = await usedMemory(client);
    const sample = ids[0] ?? "";
    const recordingKey = `${prefix}:rec:id:${sample}`;
    const recordingHashBytes = Number(await client.call("MEMORY", "USAGE", recordingKey, "SAMPLES", "0"));
    const completedJobHashBytes = Number(
      await client.call("MEMORY", "USAGE", `${prefix}:notifications:saved-${sample}`, "SAMPLES", "0"),
    );
    const recordingDocumentBytes = Buffer.byteLength((await client.hget(recordingKey, "doc")) ?? "");
    const keysAfter = await client.dbsize();
    return {
      recordings,
      groups: await keyGroups(client, prefix),
      usedMemoryDelta: after - before,
      usedMemoryDeltaPerRecording: Math.round((after - before) / recordings),
      recordingHashBytes,
      completedJobHashBytes,
      keysPerRecording: (keysAfter - keysBefore) / recordings,
      recordingDocumentBytes,
    };
  } finally {
    await producer.close();
    await Promise.all([client.quit(), producerConnection.quit()]);
  }
}
