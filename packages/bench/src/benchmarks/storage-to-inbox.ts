import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { BenchContext, Benchmark, BenchmarkReport } from "../lib/benchmark.ts";
import { startCpuSampler } from "../lib/cpu.ts";
import { startBenchFleet } from "../lib/fleet.ts";
import { coresBusy, ms, perSecond } from "../lib/format.ts";
import { caughtMails, epochNow, mapLimit, paced, waitUntil } from "../lib/recordings.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import type { Cell } from "../lib/table.ts";

const RATE = 20;
const FILE_BYTES = 64 * 1024;

const summaryRow = (label: string, summary: Summary): Cell[] => [
  label,
  summary.count,
  ms(summary.min),
  ms(summary.p50),
  ms(summary.p90),
  ms(summary.p99),
  ms(summary.max),
];

/** An MP4-looking payload (an ftyp box, then filler), as egress writes. */
function mp4Payload(): Buffer {
  const file = randomBytes(FILE_BYTES);
  file.writeUInt32BE(24, 0);
  file.write("ftypisom", 4, "latin1");
  return file;
}

async function run(ctx: BenchContext): Promise<BenchmarkReport> {
  const count = ctx.quick ? 50 : 200;
  const warmup = ctx.quick ? 10 : 50;
  ctx.log("starting the fleet");
  const bench = await startBenchFleet();
  const { info, minio } = bench.fleet;
  try {
    const runId = randomBytes(3).toString("hex");
    // Recordings whose egress has ended (`stopped`), made through the real store, so that the
    // file landing is the only thing left to happen: no egress upload mixes into the timing.
    const prepare = (label: string, total: number) =>
      mapLimit(
        Array.from({ length: total }, (_, i) => i),
        20,
        async (i) => {
          const created = await bench.store.create({
            room: `inbox-${runId}-${label}-${i}`,
            kind: "video",
            profile: "low-cpu",
            layout: "speaker",
            notify: { email: `owner-${label}-${i}@bench.example`, locale: "en" },
            metadata: null,
          });
          if (created.outcome !== "created") throw new Error(`store.create answered ${created.outcome}`);
          const { id } = created.recording;
          for (const [status, reason] of [
            ["starting", "picked up by a recorder (bench)"],
            ["stopped", "egress ended (bench)"],
          ] as const) {
            const moved = await bench.store.transition(id, status, { reason });
            if (!moved.ok) throw new Error(`recording ${id} could not move to ${status}: ${moved.reason}`);
          }
          return id;
        },
      );
    const payload = mp4Payload();
    const put = async (id: string) => {
      const key = `${info.s3.prefix}/${id}.mp4`;
      const sentAt = epochNow();
      await minio.putObject(info.s3.bucket, key, payload, payload.length, { "Content-Type": "video/mp4" });
      return { id, sentAt, writtenAt: epochNow() };
    };
    const mailsFor = async (ids: string[]) => {
      const wanted = new Set(ids.map((id) => `<saved.${id}@`));
      const found = new Map<string, number>();
      for (const mail of await caughtMails(info)) {
        const prefix = mail.messageId?.slice(0, mail.messageId.indexOf("@") + 1) ?? "";
        if (wanted.has(prefix)) found.set(prefix.slice("<saved.".length, -1), Date.parse(mail.receivedAt));
      }
      return found;
    };

    ctx.log(`warm-up: ${warmup} files at ${RATE}/s`);
    const warmIds = await prepare("warmup", warmup);
    await paced(warmIds.length, RATE, (i) => put(warmIds[i] ?? ""));
    await waitUntil(
      "the warm-up emails",
      async () => (await mailsFor(warmIds)).size === warmIds.length,
      60_000,
    );

    ctx.log(`measuring: ${count} files at ${RATE}/s`);
    const ids = await prepare("run", count);
    const machineCpu = startCpuSampler(availableParallelism());
    const puts = await paced(ids.length, RATE, (i) => put(ids[i] ?? ""));
    let received = new Map<string, number>();
    await waitUntil(
      "an email per file",
      async () => {
        received = await mailsFor(ids);
        return received.size === ids.length;
      },
      120_000,
    );
    const busyCores = machineCpu.stop();

    const toInbox: number[] = [];
    const putDuration: number[] = [];
    const toSaved: number[] = [];
    const savedToInbox: number[] = [];
    for (const written of puts.results) {
      const inbox = received.get(written.id);
      if (inbox === undefined) continue;
      toInbox.push(inbox - written.writtenAt);
      putDuration.push(written.writtenAt - written.sentAt);
      const savedAt = (await bench.store.get(written.id))?.timeline.find(
        (entry) => entry.status === "saved",
      )?.at;
      if (savedAt) {
        toSaved.push(Date.parse(savedAt) - written.writtenAt);
        savedToInbox.push(inbox - Date.parse(savedAt));
      }
    }
    const inboxLatency = summarize(toInbox);
    const counts = await bench.store.countByStatus();

    return {
      tables: [
        {
          title: `Storage-to-inbox latency: ${count} files of ${FILE_BYTES / 1024} KiB put at ${RATE}/s`,
          columns: ["interval", "n", "min", "p50", "p90", "p99", "max"],
          rows: [
            summaryRow("object written (PUT answered) → SMTP catcher accepted the email", inboxLatency),
            summaryRow("  of which: object written → recording saved (listener)", summarize(toSaved)),
            summaryRow(
              "  of which: recording saved → email accepted (queue, mailer, SMTP)",
              summarize(savedToInbox),
            ),
            summaryRow("PUT duration (minio client → S3 emulator)", summarize(putDuration)),
          ],
        },
        {
          title: "Storage-to-inbox: the run",
          columns: ["measure", "value"],
          rows: [
            ["achieved put rate", perSecond((count / puts.elapsedMs) * 1000)],
            ["emails received", `${received.size} of ${count}`],
            ["machine CPU busy while measuring", coresBusy(busyCores, availableParallelism())],
            ["final statuses", JSON.stringify(counts)],
          ],
        },
      ],
      targets: [
        {
          target: "storage → inbox p50 ≤ 100 ms",
          measured: ms(inboxLatency.p50),
          met: inboxLatency.p50 <= 100,
        },
        {
          target: "storage → inbox p99 ≤ 500 ms",
          measured: ms(inboxLatency.p99),
          met: inboxLatency.p99 <= 500,
        },
      ],
      data: {
        rate: RATE,
        count,
        fileBytes: FILE_BYTES,
        writtenToInbox: inboxLatency,
        writtenToSaved: summarize(toSaved),
        savedToInbox: summarize(savedToInbox),
        putDuration: summarize(putDuration),
        busyCores,
        finalCounts: counts,
      },
      notes: [
        "Each recording is created `stopped` through the real RecordingStore (as after egress_ended), then the bench puts its file with the minio client: the S3 emulator's listen stream tells the storage listener, which saves the recording and queues recording-saved; the mailer presigns a link, renders the email and sends it over SMTP. All apps are the real processes of the sandbox fleet.",
        "'Object written' is when the PUT was answered (client clock); 'accepted' is the SMTP catcher's receivedAt (written when it has the whole message, before it answers 250); 'saved' is the recording timeline's entry. Same machine clock; the ISO timestamps are whole milliseconds.",
      ],
    };
  } finally {
    await bench.stop();
  }
}

export const storageToInbox: Benchmark = {
  name: "storage-to-inbox",
  title: "3. Storage-to-inbox latency: object written → email accepted",
  run,
};
