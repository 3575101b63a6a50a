// The fleet on an S3 store without MinIO's listen API (AWS S3 and most others): no storage
// listener, STORAGE_EVENTS=none, and the S3 emulator answering ListenBucketNotification 501.
// Every recording must still be saved and emailed, found by the recorder's reconciler.
import { scaled } from "@recfleet/testing";
import { Client as MinioClient } from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestFleet, type TestFleet } from "../src/harness.ts";

let fleet: TestFleet;

beforeAll(async () => {
  fleet = await startTestFleet({
    replicas: { "storage-listener": 0 },
    emulatorArgs: { s3: ["--listen=false"] },
    env: { STORAGE_EVENTS: "none", RECORDER_RECONCILE_INTERVAL_MS: "1000" },
  });
}, scaled(120_000));
afterAll(async () => {
  await fleet?.stop();
});

describe("storage without bucket events (STORAGE_EVENTS=none)", () => {
  it(
    "saves and emails every recording, the reconciler finding each file in the bucket",
    async () => {
      // The store really has no listen API.
      const { s3 } = fleet.info;
      const minio = new MinioClient({
        endPoint: s3.endpoint,
        port: s3.port,
        useSSL: false,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey,
      });
      const listen = await fetch(
        await minio.presignedUrl("GET", s3.bucket, "", 60, { events: "s3:ObjectCreated:*" }),
      );
      expect(listen.status).toBe(501);
      await listen.body?.cancel();

      const rooms = ["no-listen-a", "no-listen-b", "no-listen-c"];
      const ids: string[] = [];
      for (const room of rooms) {
        await fleet.openRoom(room);
        const created = await fleet.api<{ id: string }>("POST", "/v1/recordings", {
          room,
          notify: { email: `${room}@example.com` },
        });
        expect(created.status).toBe(202);
        ids.push(created.body.id);
      }
      for (const id of ids) await fleet.waitFor(id, "active");
      for (const id of ids) expect((await fleet.api("POST", `/v1/recordings/${id}/stop`)).status).toBe(202);
      for (const id of ids) {
        const notified = await fleet.waitFor(id, "notified", 60_000);
        expect(notified.timeline.map((entry) => entry.reason)).toContain(
          "file found in storage by the reconciler (STORAGE_EVENTS=none: no bucket events)",
        );
      }
      const mails = await fleet.mails();
      for (const id of ids) {
        expect(mails.filter((mail) => mail.messageId === `<saved.${id}@sandbox.localhost>`)).toHaveLength(1);
      }
    },
    scaled(120_000),
  );
});
