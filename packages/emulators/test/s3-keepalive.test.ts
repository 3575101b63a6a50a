// Idle connections live as long as MinIO keeps them (30 s), not Node's 5 s: a client reusing a
// pooled socket must not race the server closing it.
import { connect } from "node:net";
import { scaled } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestS3, type TestS3 } from "./s3-support.ts";

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

describe("keep-alive", () => {
  it(
    "keeps an idle connection open past Node's 5 s default and answers on it again",
    async () => {
      const socket = connect(s3.emulator.port, "127.0.0.1");
      let received = "";
      let ended = false;
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString("latin1");
      });
      socket.on("end", () => {
        ended = true;
      });
      const health = "GET /minio/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
      const answers = () => received.split("HTTP/1.1 200").length - 1;
      const until = async (check: () => boolean) => {
        while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(health);
      await until(() => answers() === 1);
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(ended).toBe(false);
      socket.write(health);
      await until(() => answers() === 2 || ended);
      expect(answers()).toBe(2);
      socket.destroy();
    },
    scaled(20_000),
  );
});
