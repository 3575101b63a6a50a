import { randomBytes } from "node:crypto";
import { type S3Emulator, startS3Emulator } from "@recfleet/emulators/s3";
import { type Recording, recordingKeys } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Client as MinioClient } from "minio";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { maskAddress } from "../src/mask.ts";
import {
  type MailerOptions,
  type MailerUnderTest,
  metricValue,
  type SmtpCatcher,
  STREAM_URLS,
  seedRecording,
  startMailer,
  startSmtpCatcher,
  storageConfigFor,
} from "./support.ts";

let redis: TestRedis;
let smtp: SmtpCatcher;
let s3: S3Emulator;
let mailer: MailerUnderTest | undefined;

beforeAll(async () => {
  // Assigned one by one so that afterAll stops whatever started when another start fails.
  await Promise.all([
    startRedis().then((started) => {
      redis = started;
    }),
    startSmtpCatcher().then((started) => {
      smtp = started;
    }),
    startS3Emulator({ buckets: ["recordings"] }).then((started) => {
      s3 = started;
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), smtp?.stop(), s3?.close()]);
});
beforeEach(async () => {
  await smtp.resetFaults();
});
afterEach(async () => {
  await mailer?.close();
  mailer = undefined;
});

function recipient(): string {
  return `owner-${randomBytes(4).toString("hex")}@example.com`;
}

async function start(options: Partial<MailerOptions> = {}): Promise<MailerUnderTest> {
  mailer = await startMailer({ redisUrl: redis.url, smtpPort: smtp.smtpPort, ...options });
  return mailer;
}

async function recordingIn(m: MailerUnderTest, id: string): Promise<Recording> {
  const recording = await m.store.get(id);
  if (!recording) throw new Error(`recording ${id} is gone`);
  return recording;
}

/** ICU separates numbers and units with no-break spaces of its choosing: compare them as spaces. */
function plain(text: string | undefined): string {
  return (text ?? "").replace(/[\u00a0\u202f]/g, " ");
}

function headerOf(email: { headers: { key: string; value: string }[] }, key: string): string | undefined {
  return email.headers.find((header) => header.key === key)?.value;
}

describe("recording-saved", () => {
  it("emails both parts with a presigned link that downloads the file, then moves the recording to notified", async () => {
    // Signed for the public URL; the internal endpoint does not even resolve.
    const m = await start({
      storage: storageConfigFor({
        endpoint: "minio.internal.invalid",
        port: 9000,
        publicUrl: `http://127.0.0.1:${s3.port}`,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey,
      }),
    });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    const bytes = randomBytes(4096);
    const minio = new MinioClient({
      endPoint: "127.0.0.1",
      port: s3.port,
      useSSL: false,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: "us-east-1",
    });
    await minio.putObject("recordings", recording.file?.key ?? "", bytes, bytes.length, {
      "Content-Type": "video/mp4",
    });

    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");

    expect(email.subject).toBe('Your recording of "Weekly sync" is ready');
    expect(email.from).toEqual({ name: "recfleet", address: "no-reply@recfleet.test" });
    expect(email.to).toEqual([{ name: "", address: to }]);
    expect(email.messageId).toBe(`<saved.${recording.id}@recfleet.test>`);
    expect(headerOf(email, "content-language")).toBe("en");
    expect(headerOf(email, "auto-submitted")).toBe("auto-generated");
    expect(email.text).toContain("Recorded: Thursday, January 15, 2026 at 10:00 AM UTC");
    expect(email.text).toContain("Duration: 1 hour, 2 minutes");
    expect(email.text).toContain("Size: 48.2 MB");
    expect(email.text).toMatch(/This link works until .+ 2026 at .+ UTC\./);
    expect(email.html).toContain('<html lang="en"');

    const link = /^(http:\/\/127\.0\.0\.1:\d+\/recordings\/\S+)$/m.exec(email.text ?? "")?.[1] ?? "";
    const url = new URL(link);
    expect(url.pathname).toBe(`/recordings/${recording.file?.key}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(email.html).toContain(`href="${link.replaceAll("&", "&amp;")}"`);
    const download = await fetch(link);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    expect((await m.finished(`saved-${recording.id}`)).returnvalue).toBe("sent");
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("notified");
    expect(after.timeline.at(-1)?.reason).toBe(`emailed to ${maskAddress(to)}`);
    expect(await metricValue(m.registry, "recfleet_mailer_emails_sent_total", { kind: "saved" })).toBe(1);
    expect(
      await metricValue(
        m.registry,
        "recfleet_mailer_send_duration_seconds",
        { kind: "saved", outcome: "sent" },
        "recfleet_mailer_send_duration_seconds_count",
      ),
    ).toBe(1);
  });

  it("with a download URL template, links to the application with the id and the encoded room, without expiry", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/rooms/{room}/recordings/{id}" });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, {
      room: "Design & Co/1",
      notify: { email: to },
    });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");
    const link = `https://meet.example/rooms/Design%20%26%20Co%2F1/recordings/${recording.id}`;
    expect(email.text).toContain(`Download the recording:\n${link}\n`);
    expect(email.html).toContain(`href="${link}"`);
    expect(email.text).not.toContain("This link works until");
    expect(email.html).not.toContain("This link works until");
  });

  it("retries 451 answers without spending attempts, then sends exactly one email and notifies", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    await smtp.faults({ failNext: 3 });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });

    const job = await m.finished(`saved-${recording.id}`);
    expect(job.returnvalue).toBe("sent");
    // BullMQ counts the successful attempt; the three delays spent none.
    expect(job.attemptsMade).toBe(1);
    expect(job.attemptsStarted).toBe(4);
    expect(await smtp.messages(to)).toHaveLength(1);
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("notified");
    const notes = after.timeline.filter((entry) => entry.reason.startsWith("email not delivered yet"));
    expect(notes.map((entry) => entry.reason)).toEqual([
      "email not delivered yet (451 4.3.0 Try again later); retrying in 1 s",
      "email not delivered yet (451 4.3.0 Try again later); retrying in 1 s",
      "email not delivered yet (451 4.3.0 Try again later); retrying in 1 s",
    ]);
    expect(
      await metricValue(m.registry, "recfleet_mailer_send_failures_total", {
        kind: "saved",
        class: "transient",
      }),
    ).toBe(3);
  });

  it("gives up on transient failures once the retry window is spent: failed(notification_failed)", async () => {
    const m = await start({
      downloadUrlTemplate: "https://meet.example/r/{id}",
      retry: { windowMs: 300, backoff: { initialMs: 100, maxMs: 100, jitter: 0 } },
    });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    await smtp.faults({ failNext: 1000 });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });

    const job = await m.finished(`saved-${recording.id}`);
    expect(await job.getState()).toBe("failed");
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("failed");
    expect(after.error).toEqual({
      code: "notification_failed",
      message: `email to ${maskAddress(to)} not delivered within 1 s; last answer: 451 4.3.0 Try again later`,
    });
    expect(
      await metricValue(m.registry, "recfleet_mailer_notifications_failed_total", {
        kind: "saved",
        class: "transient",
      }),
    ).toBe(1);
  });

  it("does not retry a 550: one attempt, recording failed(notification_failed) with the server's answer", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const to = `nobody-${randomBytes(3).toString("hex")}@bounce.test`;
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    await smtp.faults({ rejectRecipients: ["*@bounce.test"] });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });

    const job = await m.finished(`saved-${recording.id}`);
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^email refused: 550 5\.1\.1/);
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("failed");
    expect(after.error?.code).toBe("notification_failed");
    // The address is masked wherever the answer quotes it: the timeline and error are the tenant's to read.
    const masked = maskAddress(to);
    expect(after.error?.message?.startsWith(`email to ${masked} refused: 550 5.1.1 <${masked}>`)).toBe(true);
    expect(after.error?.message).not.toContain(to);
    expect(await smtp.messages(to)).toEqual([]);
    expect(
      await metricValue(m.registry, "recfleet_mailer_notifications_failed_total", {
        kind: "saved",
        class: "permanent",
      }),
    ).toBe(1);
  });

  it("sends once when the same job runs twice: the second run finds the sent marker and only finishes the state change", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    const key = recordingKeys(m.prefix).recording(recording.id);
    const beforeSend = await m.redis.hgetall(key);

    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const first = await m.finished(`saved-${recording.id}`);
    expect(first.returnvalue).toBe("sent");
    expect(await m.redis.exists(`${m.prefix}:mail:sent:saved:${recording.id}`)).toBe(1);

    // As if the process had died between the server's 250 and the state change: the recording
    // is saved again and the job comes back (re-added after its removal).
    await m.redis.hset(key, beforeSend);
    await first.remove();
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const second = await m.finished(`saved-${recording.id}`);
    expect(second.returnvalue).toBe("already sent");

    expect(await smtp.messages(to)).toHaveLength(1);
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("notified");
    expect(after.timeline.at(-1)?.reason).toBe(`emailed to ${maskAddress(to)}`);
    expect(
      await metricValue(m.registry, "recfleet_mailer_notifications_skipped_total", {
        kind: "saved",
        reason: "already_sent",
      }),
    ).toBe(1);
  });

  it("delivers a hostile room name as text in both parts, never as markup", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const to = recipient();
    const room = "<script>alert(1)</script>";
    const recording = await seedRecording(m.redis, m.prefix, { room, notify: { email: to } });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");
    expect(email.subject).toBe(`Your recording of "${room}" is ready`);
    expect(email.text).toContain(`Room: ${room}`);
    expect(email.html).not.toMatch(/<script/i);
    expect(email.html).toContain(
      '<td style="vertical-align:top;padding:4px 0;">&lt;script&gt;alert(1)&lt;/script&gt;</td>',
    );
    expect(email.html).toContain(
      "<title>Your recording of &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; is ready</title>",
    );
  });

  it("writes in French when the recording asks for it, with dates in the configured time zone", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}", timeZone: "Europe/Paris" });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, {
      room: "Point hebdo",
      notify: { email: to, locale: "fr" },
      startedAt: "2026-07-01T08:30:00.000Z",
      durationMs: 45 * 60_000,
      fileSize: 1_250_000_000,
    });
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");
    expect(email.subject).toBe("Votre enregistrement de « Point hebdo » est prêt");
    expect(headerOf(email, "content-language")).toBe("fr");
    expect(plain(email.text)).toContain("Enregistré le : mercredi 1 juillet 2026 à 10:30 UTC+2");
    expect(plain(email.text)).toContain("Durée : 45 minutes");
    expect(plain(email.text)).toContain("Taille : 1,3 Go");
    expect(email.html).toContain('<html lang="fr"');
    expect(email.html).toContain(">Télécharger l’enregistrement</a>");
  });

  it("with no recipient, completes as skipped, sends nothing and moves the recording to notified", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const recording = await seedRecording(m.redis, m.prefix, { notify: null });
    const before = (await smtp.messages()).length;
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const job = await m.finished(`saved-${recording.id}`);
    expect(await job.getState()).toBe("completed");
    expect(job.returnvalue).toBe("skipped: no recipient");
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("notified");
    expect(after.timeline.at(-1)?.reason).toBe("no recipient: nothing to send");
    expect((await smtp.messages()).length).toBe(before);
    expect(
      await metricValue(m.registry, "recfleet_mailer_notifications_skipped_total", {
        kind: "saved",
        reason: "no_recipient",
      }),
    ).toBe(1);
  });

  it("sends nothing for a recording being deleted, and leaves it to the deletion", async () => {
    const m = await start({ downloadUrlTemplate: "https://meet.example/r/{id}" });
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    await m.store.requestDelete(
      recording.id,
      { tenant: "default", keyId: "k" },
      "deletion requested by test",
    );
    await m.producer.enqueue("recording-saved", { recordingId: recording.id });
    const job = await m.finished(`saved-${recording.id}`);
    expect(job.returnvalue).toBe("skipped: recording is being deleted");
    expect((await recordingIn(m, recording.id)).status).toBe("saved");
    expect(await smtp.messages(to)).toEqual([]);
  });
});

describe("recording-failed", () => {
  it("tells the owner what happened and what to do, and notes it on the timeline", async () => {
    const m = await start();
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, {
      notify: { email: to },
      outcome: { failed: "start_failed" },
    });
    await m.producer.enqueue("recording-failed", { recordingId: recording.id, reason: "start_failed" });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");
    expect(email.subject).toBe('Your recording of "Weekly sync" failed');
    expect(email.messageId).toBe(`<failed.${recording.id}@recfleet.test>`);
    expect(email.text).toContain(
      "What happened\nThe recording could not start. This usually means that no recording capacity was free at the time.",
    );
    expect(email.text).toContain("What you can do\nStart the recording again.");
    expect(email.html).toContain("<h2");
    expect(email.html).toContain("no recording capacity was free");

    expect((await m.finished(`failed-${recording.id}`)).returnvalue).toBe("sent");
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("failed");
    expect(after.timeline.at(-1)?.reason).toBe(`failure email sent to ${maskAddress(to)}`);
  });

  it("a refused failure email is noted on the timeline; the recording stays failed with its own error", async () => {
    const m = await start();
    const to = `gone-${randomBytes(3).toString("hex")}@bounce.test`;
    const recording = await seedRecording(m.redis, m.prefix, {
      notify: { email: to },
      outcome: { failed: "lost" },
    });
    await smtp.faults({ rejectRecipients: ["*@bounce.test"] });
    await m.producer.enqueue("recording-failed", { recordingId: recording.id, reason: "lost" });
    const job = await m.finished(`failed-${recording.id}`);
    expect(await job.getState()).toBe("failed");
    expect(job.attemptsMade).toBe(1);
    const after = await recordingIn(m, recording.id);
    expect(after.error?.code).toBe("lost");
    expect(
      after.timeline.at(-1)?.reason?.startsWith(`failure email to ${maskAddress(to)} refused: 550 `),
    ).toBe(true);
  });

  it("never emails about notification_failed", async () => {
    const m = await start();
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, {
      notify: { email: to },
      outcome: { failed: "notification_failed" },
    });
    await m.producer.enqueue("recording-failed", {
      recordingId: recording.id,
      reason: "notification_failed",
    });
    expect((await m.finished(`failed-${recording.id}`)).returnvalue).toBe(
      "skipped: not emailed for this reason",
    );
    expect(await smtp.messages(to)).toEqual([]);
  });
});

describe("stream-ended", () => {
  it("tells the owner where the stream went and how each destination ended, then moves it stopped → notified", async () => {
    const m = await start();
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to }, outcome: "streamed" });
    expect(recording.status).toBe("stopped");
    await m.producer.enqueue("stream-ended", { recordingId: recording.id });
    const [caught] = await smtp.waitForMessages(to, 1);
    const email = await smtp.parsed(caught?.id ?? "");
    expect(email.subject).toBe('Your live stream of "Weekly sync" has ended');
    expect(email.messageId).toBe(`<ended.${recording.id}@recfleet.test>`);
    expect(plain(email.text)).toContain("there is no file to download");
    expect(email.text).toContain(
      "Streamed to:\n- rtmp://a.rtmp.youtube.com/live2/{abc...nop} (ended normally)\n- rtmps://live.twitch.example:443/app/{liv...yxw} (stopped with an error: connection closed by the server, reconnected 2 times)",
    );
    expect(email.text).toContain("Duration: 1 hour, 2 minutes");
    expect(email.html).toContain("<code>rtmp://a.rtmp.youtube.com/live2/{abc...nop}</code>");
    // The keys themselves are nowhere in the message.
    const shown = `${email.subject}${email.text}${email.html}`;
    for (const url of STREAM_URLS) expect(shown).not.toContain(url.slice(url.lastIndexOf("/") + 1));

    expect((await m.finished(`ended-${recording.id}`)).returnvalue).toBe("sent");
    const after = await recordingIn(m, recording.id);
    expect(after.status).toBe("notified");
    expect(after.timeline.at(-1)?.reason).toBe(`stream end emailed to ${maskAddress(to)}`);
    // A duplicate job sends nothing more.
    await m.producer
      .queue("notifications")
      .add("stream-ended", { recordingId: recording.id }, { jobId: `ended-again-${recording.id}` });
    expect((await m.finished(`ended-again-${recording.id}`)).returnvalue).toBe(
      "skipped: recording is notified",
    );
    expect(await smtp.messages(to)).toHaveLength(1);
  });

  it("is not sent for a recording that stores files: that one is emailed once saved", async () => {
    const m = await start();
    const to = recipient();
    const recording = await seedRecording(m.redis, m.prefix, { notify: { email: to } });
    await m.producer.enqueue("stream-ended", { recordingId: recording.id });
    expect((await m.finished(`ended-${recording.id}`)).returnvalue).toBe(
      "skipped: the recording stores files",
    );
    expect(await smtp.messages(to)).toEqual([]);
  });

  it("with no recipient, moves the recording to notified without sending", async () => {
    const m = await start();
    const recording = await seedRecording(m.redis, m.prefix, { notify: null, outcome: "streamed" });
    await m.producer.enqueue("stream-ended", { recordingId: recording.id });
    expect((await m.finished(`ended-${recording.id}`)).returnvalue).toBe("skipped: no recipient");
    expect((await recordingIn(m, recording.id)).status).toBe("notified");
  });
});
