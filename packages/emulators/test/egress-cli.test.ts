import { fileURLToPath } from "node:url";
import { spawnTs } from "@recfleet/testing";
import {
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  ServerError,
} from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { failure, startS3Recorder, waitFor } from "./egress-support.ts";

const CLI = fileURLToPath(new URL("../src/livekit/cli.ts", import.meta.url));

async function admin(base: string, method: string, path: string, body?: unknown): Promise<[number, unknown]> {
  const response = await fetch(`${base}/_admin${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return [response.status, await response.json()];
}

describe("egress emulator CLI", () => {
  it("runs as its own process with its flags, takes faults over HTTP and exits 0 on SIGTERM", async () => {
    const storage = await startS3Recorder({ "cli-key": "cli-secret" });
    // Secrets come from the environment; one starts with "-", which argv could not carry.
    const child = spawnTs(
      CLI,
      [
        "--port",
        "0",
        "--api-key=cli-api-key",
        "--activation-delay-ms",
        "20",
        "--capacity",
        "1",
        "--refusal-delay-ms=0",
        "--storage-endpoint",
        storage.url,
        "--storage-bucket",
        "cli-bucket",
        "--storage-access-key",
        "cli-key",
        "--storage-prefix=lk/",
      ],
      { env: { LIVEKIT_API_SECRET: "-cli-api-secret", EGRESS_STORAGE_SECRET: "cli-secret" } },
    );
    try {
      const line = await child.waitForLine(/"msg":"livekit emulator listening"/);
      const listening = JSON.parse(line) as { port: number; url: string };
      expect(listening.port).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${listening.port}`;
      expect(await (await fetch(base)).text()).toBe("OK");

      const joined = await admin(base, "POST", "/rooms/cli-room/participants", {
        identity: "speaker",
        publish: ["camera", "microphone"],
      });
      expect(joined[0]).toBe(200);
      const client = new EgressClient(base, "cli-api-key", "-cli-api-secret");
      const started = await client.startRoomCompositeEgress("cli-room", {
        file: new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: "cli/rec.mp4" }),
      });
      // --capacity 1: the second one is refused while the first runs.
      const refused = await failure(
        client.startRoomCompositeEgress("cli-room", {
          file: new EncodedFileOutput({ filepath: "cli/other.mp4" }),
        }),
      );
      expect(refused).toBeInstanceOf(ServerError);
      expect((refused as unknown as ServerError).status).toBe(503);

      await waitFor(async () =>
        (await client.listEgress({ egressId: started.egressId }))[0]?.status === EgressStatus.EGRESS_ACTIVE
          ? true
          : undefined,
      );
      await client.stopEgress(started.egressId);
      await waitFor(async () =>
        (await client.listEgress({ egressId: started.egressId }))[0]?.status === EgressStatus.EGRESS_COMPLETE
          ? true
          : undefined,
      );
      // Under --storage-prefix: the file, then its manifest.
      expect(storage.objects.map((object) => `${object.bucket}/${object.key}`)).toEqual([
        "cli-bucket/lk/cli/rec.mp4",
        `cli-bucket/lk/cli/${started.egressId}.json`,
      ]);

      const [faultStatus, faults] = await admin(base, "PUT", "/faults", { capacity: null, failNext: 2 });
      expect(faultStatus).toBe(200);
      expect(faults).toMatchObject({ capacity: null, failNext: 2, activationDelayMs: 20 });
      const [badStatus, bad] = await admin(base, "PUT", "/faults", { capacity: -1, nonsense: true });
      expect(badStatus).toBe(400);
      expect((bad as { error: string }).error).toMatch(/capacity/);

      const [, listed] = await admin(base, "GET", "/egresses");
      expect((listed as { egresses: { info: { egress_id: string; status: string } }[] }).egresses).toEqual([
        expect.objectContaining({
          info: expect.objectContaining({ egress_id: started.egressId, status: "EGRESS_COMPLETE" }),
        }),
      ]);
      const [, requests] = await admin(base, "GET", "/requests");
      const methods = (requests as { requests: { method: string; status: number }[] }).requests.map(
        (request) => `${request.method} ${request.status}`,
      );
      expect(methods.slice(0, 3)).toEqual([
        "StartRoomCompositeEgress 200",
        "StartRoomCompositeEgress 503",
        "ListEgress 200",
      ]);
      const [missing] = await admin(base, "POST", "/egresses/EG_nope/crash");
      expect(missing).toBe(404);
      const [resetStatus] = await admin(base, "POST", "/reset");
      expect(resetStatus).toBe(200);
      const [, afterReset] = await admin(base, "GET", "/faults");
      expect(afterReset).toMatchObject({ capacity: 1, failNext: 0 });

      expect(await child.stop("SIGTERM")).toBe(0);
    } finally {
      await child.stop("SIGKILL");
      await storage.close();
    }
  });

  it("sends a file its storage refuses to the backup storage of its --backup-* flags", async () => {
    const primary = await startS3Recorder({ "primary-key": "primary-secret" });
    const backup = await startS3Recorder({ "backup-key": "backup-secret" });
    const child = spawnTs(
      CLI,
      [
        "--port=0",
        "--upload-retry-delay-ms=1",
        `--storage-endpoint=${primary.url}`,
        "--storage-bucket=main",
        "--storage-access-key=primary-key",
        `--backup-endpoint=${backup.url}`,
        "--backup-bucket=spill",
        "--backup-access-key=backup-key",
        "--backup-prefix=kept",
      ],
      // The primary's secret is wrong: every upload there is refused (403, not retried).
      { env: { EGRESS_STORAGE_SECRET: "not-the-secret", EGRESS_BACKUP_SECRET: "backup-secret" } },
    );
    try {
      const line = await child.waitForLine(/"msg":"livekit emulator listening"/);
      const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      await admin(base, "POST", "/rooms/backup-room/participants", {
        identity: "a",
        publish: ["microphone"],
      });
      const client = new EgressClient(base, "devkey", "secret");
      const started = await client.startRoomCompositeEgress(
        "backup-room",
        { file: new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: "b/rec.ogg" }) },
        { audioOnly: true },
      );
      await waitFor(async () =>
        (await client.listEgress({ egressId: started.egressId }))[0]?.status === EgressStatus.EGRESS_ACTIVE
          ? true
          : undefined,
      );
      await client.stopEgress(started.egressId);
      const done = await waitFor(async () => {
        const [info] = await client.listEgress({ egressId: started.egressId });
        return info?.status === EgressStatus.EGRESS_COMPLETE ? info : undefined;
      });
      expect(done.backupStorageUsed).toBe(true);
      expect(primary.objects).toHaveLength(0);
      expect(primary.verdicts.filter((verdict) => verdict.status === 403)).toHaveLength(1);
      expect(backup.objects.map((object) => `${object.bucket}/${object.key}`)).toEqual([
        "spill/kept/b/rec.ogg",
        `spill/kept/b/${started.egressId}.json`,
      ]);
      expect(await child.stop("SIGTERM")).toBe(0);
    } finally {
      await child.stop("SIGKILL");
      await primary.close();
      await backup.close();
    }
  });

  it("refuses secrets on the command line, naming the variable that takes them", async () => {
    const variables: Record<string, string> = {
      "--api-secret": "LIVEKIT_API_SECRET",
      "--storage-secret=x": "EGRESS_STORAGE_SECRET",
      "--backup-secret=x": "EGRESS_BACKUP_SECRET",
    };
    for (const flags of [["--api-secret", "x"], ["--storage-secret=x"], ["--backup-secret=x"]]) {
      const child = spawnTs(CLI, ["--port=0", ...flags]);
      expect(await child.exited).toBe(2);
      const variable = variables[flags[0] ?? ""];
      expect(child.lines.join("\n")).toContain(`is not taken on the command line`);
      expect(child.lines.join("\n")).toContain(`set ${variable} (or ${variable}_FILE`);
    }
  });

  it("refuses a bad flag with a message and exit code 2", async () => {
    const child = spawnTs(CLI, ["--port", "0", "--drop-webhooks", "2"]);
    expect(await child.exited).toBe(2);
    expect(child.lines.join("\n")).toContain("--drop-webhooks needs a number from 0 to 1");
  });
});
