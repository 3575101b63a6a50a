import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningProcess, spawnTs } from "@recfleet/testing";
import { Client } from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll } from "./s3-support.ts";

const CLI = fileURLToPath(new URL("../src/s3/cli.ts", import.meta.url));
const CREDENTIALS = { accessKey: "cli-access", secretKey: "cli-secret-key" };

let dataDir: string;
const running: RunningProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "s3-emulator-cli-"));
});

afterAll(async () => {
  await Promise.all(running.map((process) => process.stop("SIGKILL")));
  await rm(dataDir, { recursive: true, force: true });
});

async function startCli(
  port: number,
  extra: string[] = [],
): Promise<{ process: RunningProcess; port: number }> {
  const process = spawnTs(
    CLI,
    [
      `--port=${port}`,
      `--data-dir=${dataDir}`,
      "--bucket=recordings",
      `--access-key=${CREDENTIALS.accessKey}`,
      ...extra,
    ],
    { env: { MINIO_ROOT_PASSWORD: CREDENTIALS.secretKey } },
  );
  running.push(process);
  const line = await process.waitForLine(/"msg":"s3 emulator listening"/);
  const listening = JSON.parse(line) as { port: number; dataDir: string };
  expect(listening.dataDir).toBe(dataDir);
  expect(line).not.toContain(CREDENTIALS.secretKey);
  return { process, port: listening.port };
}

const clientOn = (port: number) =>
  new Client({ endPoint: "127.0.0.1", port, useSSL: false, region: "us-east-1", ...CREDENTIALS });

describe("s3 emulator CLI", () => {
  it("keeps objects across a SIGKILL and a restart on the same port and data directory", async () => {
    const first = await startCli(0);
    const before = clientOn(first.port);
    await before.putObject("recordings", "rec/ünï 1.mp4", Buffer.from("survives a crash"), 16, {
      "Content-Type": "video/mp4",
    });
    const written = await before.statObject("recordings", "rec/ünï 1.mp4");

    expect(await first.process.stop("SIGKILL")).toBe("SIGKILL");
    const second = await startCli(first.port);
    expect(second.port).toBe(first.port);

    const after = clientOn(second.port);
    expect((await readAll(await after.getObject("recordings", "rec/ünï 1.mp4"))).toString()).toBe(
      "survives a crash",
    );
    const stat = await after.statObject("recordings", "rec/ünï 1.mp4");
    expect(stat).toMatchObject({ size: 16, etag: written.etag, metaData: { "content-type": "video/mp4" } });
    expect(stat.lastModified.getTime()).toBe(written.lastModified.getTime());
    const listed: { name?: string; lastModified?: Date }[] = [];
    for await (const item of after.listObjectsV2("recordings", "rec/", true)) listed.push(item);
    expect(listed.map((item) => item.name)).toEqual(["rec/ünï 1.mp4"]);

    expect(await second.process.stop("SIGTERM")).toBe(0);
  });

  it("refuses its secret key on the command line and reads it from a file", async () => {
    const onArgv = spawnTs(CLI, ["--port=0", "--secret-key", "-abcdefgh"]);
    running.push(onArgv);
    expect(await onArgv.exited).toBe(2);
    expect(onArgv.lines.join("\n")).toContain("set MINIO_ROOT_PASSWORD (or MINIO_ROOT_PASSWORD_FILE");
    const file = join(dataDir, "..", `s3-cli-secret-${process.pid}`);
    await writeFile(file, "-from-a-file-1234\n");
    try {
      const fromFile = spawnTs(
        CLI,
        ["--port=0", "--bucket=recordings", `--access-key=${CREDENTIALS.accessKey}`],
        {
          env: { MINIO_ROOT_PASSWORD_FILE: file },
        },
      );
      running.push(fromFile);
      const { port } = JSON.parse(await fromFile.waitForLine(/"msg":"s3 emulator listening"/)) as {
        port: number;
      };
      const client = new Client({
        endPoint: "127.0.0.1",
        port,
        useSSL: false,
        region: "us-east-1",
        accessKey: CREDENTIALS.accessKey,
        secretKey: "-from-a-file-1234",
      });
      expect(await client.bucketExists("recordings")).toBe(true);
      expect(await fromFile.stop("SIGTERM")).toBe(0);
    } finally {
      await rm(file, { force: true });
    }
  });

  it("refuses a bad flag value with a clear message and exit code 2", async () => {
    const process = spawnTs(CLI, ["--drop-events", "2"]);
    running.push(process);
    expect(await process.exited).toBe(2);
    expect(process.lines.join("\n")).toContain("--drop-events needs a number from 0 to 1");
  });
});
