import { startS3Emulator } from "@recfleet/emulators/s3";
import { recordingIdFloor } from "@recfleet/recordings";
import { Client as MinioClient } from "minio";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { ms } from "../lib/format.ts";
import type { Cell } from "../lib/table.ts";

const BUCKET = "recordings";
const PREFIX = "recordings";
/** Recordings still waiting for their files when the re-scan runs: the work it is there for. */
const WAITING = 20;
const PUT_CONCURRENCY = 32;
/** Flat means within ±20 % from the smallest to the largest history (issue 17). */
const FLAT_TOLERANCE = 0.2;

/** A UUIDv7-shaped id minted at `ms`, the nth of that millisecond. */
function idAt(ms: number, n: number): string {
  return `${recordingIdFloor(ms)}-7000-8000-${n.toString(16).padStart(12, "0")}`;
}

async function putAll(minio: MinioClient, keys: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++] ?? "";
      await minio.putObject(BUCKET, key, Buffer.from("x"), 1, { "Content-Type": "video/mp4" });
    }
  };
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker));
}

interface Scan {
  listed: number;
  listCalls: number;
  durationMs: number;
}

/**
 * One re-scan's listing as the storage listener makes it (listObjectsV2 of the recordings
 * prefix, recursive, every page), from the start of the prefix or after `startAfter`.
 */
async function scan(
  minio: MinioClient,
  emulator: Awaited<ReturnType<typeof startS3Emulator>>,
  startAfter: string,
): Promise<Scan> {
  const before = emulator.requests().at(-1)?.seq ?? 0;
  const started = performance.now();
  let listed = 0;
  for await (const _ of minio.listObjectsV2(BUCKET, `${PREFIX}/`, true, startAfter)) listed += 1;
  const durationMs = performance.now() - started;
  const listCalls = emulator.requests(before).filter((entry) => entry.operation === "ListObjectsV2").length;
  return { listed, listCalls, durationMs };
}

/** The fastest of `runs` scans: the machine is shared, the listing is what is measured. */
async function bestOf(runs: number, once: () => Promise<Scan>): Promise<Scan> {
  let best: Scan | undefined;
  for (let run = 0; run < runs; run += 1) {
    const result = await once();
    if (!best || result.durationMs < best.durationMs) best = result;
  }
  return best as Scan;
}

export const rescanGrowth: Benchmark = {
  name: "rescan-growth",
  title: "Re-scan cost as history grows: the whole prefix (before) against the keys that can still count",
  async run(ctx: BenchContext): Promise<BenchmarkReport> {
    const sizes = ctx.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    const emulator = await startS3Emulator({ buckets: [BUCKET], requestLogSize: 1_000 });
    const minio = new MinioClient({
      endPoint: emulator.host,
      port: emulator.port,
      useSSL: false,
      accessKey: emulator.accessKey,
      secretKey: emulator.secretKey,
      region: emulator.region,
    });
    const rows: Cell[][] = [];
    const data: Record<string, unknown>[] = [];
    try {
      const now = Date.now();
      // The waiting recordings' files, minted now; the history is minted a year before.
      const waiting = Array.from({ length: WAITING }, (_, n) => idAt(now, n));
      await putAll(
        minio,
        waiting.map((id) => `${PREFIX}/${id}.mp4`),
      );
      let stored = 0;
      const yearAgo = now - 365 * 24 * 3_600_000;
      for (const size of sizes) {
        ctx.log(`rescan-growth: ${size} old objects in the bucket`);
        const keys = Array.from({ length: size - stored }, (_, n) => {
          const i = stored + n;
          return `${PREFIX}/${idAt(yearAgo + Math.floor(i / 16), i % 16)}.mp4`;
        });
        await putAll(minio, keys);
        stored = size;
        const runs = ctx.quick ? 1 : 3;
        const whole = await bestOf(runs, () => scan(minio, emulator, ""));
        // What the listener lists after: the oldest recording still waiting for its files.
        const after = await bestOf(runs, () => scan(minio, emulator, `${PREFIX}/${waiting[0]}`));
        rows.push([
          size,
          whole.listCalls,
          whole.listed,
          ms(whole.durationMs),
          after.listCalls,
          after.listed,
          ms(after.durationMs),
        ]);
        data.push({ oldObjects: size, whole, startAfter: after });
      }
    } finally {
      await emulator.close();
    }
    const first = data[0]?.startAfter as Scan | undefined;
    const last = data.at(-1)?.startAfter as Scan | undefined;
    const callsFlat = first !== undefined && last !== undefined && last.listCalls === first.listCalls;
    const growth = first && last ? last.durationMs / first.durationMs - 1 : Number.NaN;
    return {
      tables: [
        {
          title: `Re-scan of the recordings prefix with ${WAITING} recordings waiting for their files`,
          columns: [
            "old objects",
            "before: list calls",
            "before: keys",
            "before: time",
            "now: list calls",
            "now: keys",
            "now: time",
          ],
          rows,
        },
      ],
      targets: [
        {
          target: "re-scan list calls flat from 1k to the largest history",
          measured: `${first?.listCalls ?? "?"} → ${last?.listCalls ?? "?"}`,
          met: callsFlat,
        },
        {
          target: `re-scan time within ±${FLAT_TOLERANCE * 100} % from 1k to the largest history`,
          measured: Number.isFinite(growth)
            ? `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(0)} %`
            : "n/a",
          met: Number.isFinite(growth) && Math.abs(growth) <= FLAT_TOLERANCE,
        },
      ],
      data: { sizes, rows: data },
      notes: [
        "Against the S3 emulator, which seeks to where a listing starts as S3 and MinIO do: the list calls are what a real store is asked; the times are the emulator's and this machine's.",
        "The listener lists after `<prefix>/<oldest recording queued to stopped>` (RecordingStore.oldestAwaitingFiles); ids are UUIDv7, so every older key is skipped without being read.",
        `Time is the best of ${ctx.quick ? 1 : 3} scans per size.`,
      ],
    };
  },
};
