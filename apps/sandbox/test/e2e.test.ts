import { loadProfileCatalog } from "@recfleet/config";
import { egressEncodingFor } from "@recfleet/config/egress";
import { scaled } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingView, startTestFleet, type TestFleet } from "../src/harness.ts";

let fleet: TestFleet;
const profiles = loadProfileCatalog({ file: "", defaultName: "low-cpu", defaultLayout: "speaker" });

beforeAll(async () => {
  fleet = await startTestFleet();
}, scaled(120_000));
afterAll(async () => {
  await fleet?.stop();
});

/** Opens each room with someone publishing (a meeting under way), then asks to record it. */
async function startRecordings(specs: { room: string; kind: "video" | "audio"; profile: string }[]) {
  for (const spec of specs) await fleet.openRoom(spec.room);
  const answers = await Promise.all(
    specs.map((spec) =>
      fleet.api<RecordingView>("POST", "/v1/recordings", {
        ...spec,
        notify: { email: `${spec.room}@example.com` },
      }),
    ),
  );
  for (const answer of answers) expect(answer.status).toBe(202);
  return answers.map((answer) => answer.body);
}

async function stopAll(recordings: RecordingView[]) {
  for (const recording of recordings)
    expect((await fleet.api("POST", `/v1/recordings/${recording.id}/stop`)).status).toBe(202);
}

function linkIn(text: string): string {
  const link = /https?:\/\/[^\s]+/.exec(text.slice(text.indexOf("http")))?.[0];
  if (!link) throw new Error(`no link in:\n${text}`);
  return link;
}

describe("the whole fleet, through the public API only", () => {
  it(
    "records 20 concurrent recordings of mixed kinds and profiles, emails each, and each link downloads its file",
    async () => {
      const names = ["default", "balanced", "low-cpu", "slide-heavy", "minimum-cpu", "audio-heavy"];
      const specs = Array.from({ length: 20 }, (_, i) => ({
        room: `e2e-room-${i}`,
        kind: i % 3 === 0 ? ("audio" as const) : ("video" as const),
        profile: names[i % names.length] ?? "low-cpu",
      }));
      const recordings = await startRecordings(specs);
      for (const recording of recordings) await fleet.waitFor(recording.id, "active");
      await stopAll(recordings);
      const notified = await Promise.all(
        recordings.map((recording) => fleet.waitFor(recording.id, "notified")),
      );

      const mails = await fleet.mails();
      for (const recording of notified) {
        const mail = mails.filter((entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`);
        expect(mail).toHaveLength(1);
        const link = linkIn(await fleet.mailText(mail[0]?.id ?? ""));
        const downloaded = Buffer.from(await (await fetch(link)).arrayBuffer());
        const stored = Buffer.concat(
          await (await fleet.minio.getObject(fleet.info.s3.bucket, recording.file?.key ?? "")).toArray(),
        );
        expect(downloaded.equals(stored)).toBe(true);
        expect(recording.file?.key).toBe(
          `recordings/${recording.id}.${recording.kind === "audio" ? "ogg" : "mp4"}`,
        );
      }

      const { requests } = await fleet.livekitAdmin<{
        requests: { method: string; status: number; body: Record<string, unknown> }[];
      }>("/requests");
      // Only this test's rooms: the other tests share the fleet and may have run before.
      const rooms = new Set(specs.map((spec) => spec.room));
      const starts = requests.filter(
        (request) =>
          request.method === "StartRoomCompositeEgress" && rooms.has(String(request.body.roomName)),
      );
      expect(starts).toHaveLength(20);
      for (const recording of notified) {
        const [start] = starts.filter((request) => request.body.roomName === recording.room);
        expect(start?.status).toBe(200);
        const profile = profiles.get(recording.profile);
        if (!profile) throw new Error(`unknown profile ${recording.profile}`);
        const expected = egressEncodingFor(profile, recording.kind).encodingOptions;
        if (expected === undefined) expect(start?.body).not.toHaveProperty("advanced");
        else if (typeof expected === "number") expect(start?.body.preset).toBeDefined();
        else expect(start?.body.advanced).toEqual(expected.toJson());
        expect(Boolean(start?.body.audioOnly)).toBe(recording.kind === "audio");
      }
    },
    scaled(180_000),
  );

  it(
    "completes every recording when the egress fleet takes one at a time",
    async () => {
      await fleet.livekitAdmin("/faults", { capacity: 1 });
      try {
        const recordings = await startRecordings(
          [0, 1, 2].map((i) => ({ room: `e2e-busy-${i}`, kind: "video" as const, profile: "low-cpu" })),
        );
        const done = new Set<string>();
        const deadline = Date.now() + scaled(90_000);
        while (done.size < recordings.length && Date.now() < deadline) {
          for (const recording of recordings) {
            if (done.has(recording.id)) continue;
            const { body } = await fleet.api<RecordingView>("GET", `/v1/recordings/${recording.id}`);
            expect(body.status).not.toBe("failed");
            if (body.status === "active") {
              await stopAll([body]);
              done.add(body.id);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        for (const recording of recordings) await fleet.waitFor(recording.id, "notified");
      } finally {
        await fleet.livekitAdmin("/faults", { capacity: null });
      }
    },
    scaled(120_000),
  );

  it(
    "emails the owner when an egress fails mid-way",
    async () => {
      await fleet.livekitAdmin("/faults", { failNext: 1, failAfterMs: 300 });
      const [recording] = await startRecordings([{ room: "e2e-fails", kind: "video", profile: "balanced" }]);
      const failed = await fleet.waitFor(recording?.id ?? "", "failed");
      expect(failed.error?.code).toBe("egress_failed");
      const deadline = Date.now() + scaled(30_000);
      let mail: { id: string; subject: string } | undefined;
      while (!mail && Date.now() < deadline) {
        mail = (await fleet.mails()).find(
          (entry) => entry.messageId === `<failed.${failed.id}@sandbox.localhost>`,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(mail?.subject).toMatch(/e2e-fails/);
    },
    scaled(60_000),
  );

  it(
    "cancels a recording stopped before it started, and sends no email",
    async () => {
      // The fleet is full: the recording waits in `starting` without an egress.
      await fleet.livekitAdmin("/faults", { capacity: 0 });
      try {
        const [recording] = await startRecordings([
          { room: "e2e-cancel", kind: "audio", profile: "low-cpu" },
        ]);
        await fleet.waitFor(recording?.id ?? "", "starting");
        await stopAll([recording as RecordingView]);
        const cancelled = await fleet.waitFor(recording?.id ?? "", "cancelled", 30_000);
        expect(cancelled.egressId).toBeNull();
      } finally {
        await fleet.livekitAdmin("/faults", { capacity: null });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await fleet.mails()).filter((entry) => entry.subject.includes("e2e-cancel"))).toEqual([]);
    },
    scaled(60_000),
  );

  it(
    "misses no notification when the S3 emulator restarts mid-run",
    async () => {
      const recordings = await startRecordings(
        [0, 1, 2, 3].map((i) => ({ room: `e2e-s3-${i}`, kind: "video" as const, profile: "minimum-cpu" })),
      );
      for (const recording of recordings) await fleet.waitFor(recording.id, "active");
      await fleet.supervisor.restart("s3");
      await stopAll(recordings);
      for (const recording of recordings) await fleet.waitFor(recording.id, "notified", 90_000);
      const mails = await fleet.mails();
      for (const recording of recordings) {
        expect(
          mails.filter((entry) => entry.messageId === `<saved.${recording.id}@sandbox.localhost>`),
        ).toHaveLength(1);
      }
    },
    scaled(120_000),
  );
});
