import {
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  EncodingOptions,
  S3Upload,
} from "livekit-server-sdk";
import { Client } from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LiveKitEmulator,
  type LiveKitEmulatorOptions,
  startLiveKitEmulator,
} from "../src/livekit/index.ts";
import { type S3Emulator, startS3Emulator } from "../src/s3/index.ts";
import { openRooms, waitFor } from "./egress-support.ts";

let s3: S3Emulator;
let egress: LiveKitEmulator;

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ["recordings"] });
  egress = await startLiveKitEmulator({ activationDelayMs: 20, logLevel: "error" });
});

const ROOMS = ["room-s3"];

function minioOf(emulator: S3Emulator): Client {
  const url = new URL(emulator.url);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: emulator.accessKey,
    secretKey: emulator.secretKey,
    region: emulator.region,
  });
}

function s3Output(filepath: string, target: S3Emulator = s3): EncodedFileOutput {
  return new EncodedFileOutput({
    fileType: EncodedFileType.MP4,
    filepath,
    output: {
      case: "s3",
      value: new S3Upload({
        accessKey: target.accessKey,
        secret: target.secretKey,
        region: target.region,
        endpoint: target.url,
        bucket: "recordings",
        forcePathStyle: true,
      }),
    },
  });
}

/** Runs one egress on its own emulator (with these settings) until it ended; answers its last info. */
async function recordOnce(
  options: Partial<LiveKitEmulatorOptions>,
  output: EncodedFileOutput,
  { activeMs = 0, encoding }: { activeMs?: number; encoding?: EncodingOptions } = {},
) {
  const own = await startLiveKitEmulator({ activationDelayMs: 0, logLevel: "error", ...options });
  try {
    openRooms(own, ["room-upload"]);
    const sdk = new EgressClient(own.url, own.apiKey, own.apiSecret);
    const started = await sdk.startRoomCompositeEgress(
      "room-upload",
      { file: output },
      encoding ? { encodingOptions: encoding } : {},
    );
    await waitFor(() => (own.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined));
    if (activeMs > 0) await new Promise((resolve) => setTimeout(resolve, activeMs));
    await sdk.stopEgress(started.egressId);
    await own.idle();
    const [info] = await sdk.listEgress({ egressId: started.egressId });
    if (!info) throw new Error("egress forgotten");
    return { info, upload: own.egress(started.egressId)?.upload };
  } finally {
    await own.close();
  }
}

beforeAll(() => openRooms(egress, ROOMS));

afterAll(async () => {
  await egress.close();
  await s3.close();
});

describe("the egress emulator with the S3 emulator as its storage", () => {
  it("uploads the recording where a minio client finds it, with its size and content type", async () => {
    const client = new EgressClient(egress.url, egress.apiKey, egress.apiSecret);
    const output = new EncodedFileOutput({
      fileType: EncodedFileType.MP4,
      filepath: "recordings/s3-emulator.mp4",
      output: {
        case: "s3",
        value: new S3Upload({
          accessKey: s3.accessKey,
          secret: s3.secretKey,
          region: s3.region,
          endpoint: s3.url,
          bucket: "recordings",
          forcePathStyle: true,
        }),
      },
    });
    const started = await client.startRoomCompositeEgress("room-s3", { file: output });
    await waitFor(() =>
      egress.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined,
    );
    await client.stopEgress(started.egressId);
    await egress.idle();

    const [done] = await client.listEgress({ egressId: started.egressId });
    expect(done?.status).toBe(EgressStatus.EGRESS_COMPLETE);
    const url = new URL(s3.url);
    const minio = new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: s3.region,
    });
    const stat = await minio.statObject("recordings", "recordings/s3-emulator.mp4");
    expect(BigInt(stat.size)).toBe(done?.fileResults[0]?.size);
    expect(stat.metaData["content-type"]).toBe("video/mp4");
    expect(done?.fileResults[0]?.location).toBe(`${s3.url}/recordings/recordings/s3-emulator.mp4`);
  });

  it("puts its storage prefix before the filepath, and reports the filepath as asked", async () => {
    const { info } = await recordOnce({ storagePrefix: "eu-west/" }, s3Output("recordings/prefixed.mp4"));
    expect(info.status).toBe(EgressStatus.EGRESS_COMPLETE);
    expect(info.fileResults[0]?.filename).toBe("recordings/prefixed.mp4");
    expect(info.fileResults[0]?.location).toBe(`${s3.url}/recordings/eu-west/recordings/prefixed.mp4`);
    const stat = await minioOf(s3).statObject("recordings", "eu-west/recordings/prefixed.mp4");
    expect(stat.metaData["content-disposition"]).toBe("inline");
    await expect(minioOf(s3).statObject("recordings", "recordings/prefixed.mp4")).rejects.toMatchObject({
      code: "NotFound",
    });
    // The manifest goes beside the file, under the same prefix.
    await minioOf(s3).statObject("recordings", `eu-west/recordings/${info.egressId}.json`);
  });

  it("sends a file over 5 MiB as a multipart upload in 5 MiB parts", async () => {
    s3.clearRequests();
    // 100 Mbps for at least 0.6 s is 7.5 MB or more, capped at 8 MiB: two parts however long the
    // egress stays active on a busy machine (above 10 MiB minio-js, which the emulator uploads
    // with, picks its own part layout).
    const { info } = await recordOnce(
      { payloadCapBytes: 8 * 1024 * 1024 },
      s3Output("recordings/large.mp4"),
      { activeMs: 600, encoding: new EncodingOptions({ videoBitrate: 100_000, audioBitrate: 128 }) },
    );
    const size = Number(info.fileResults[0]?.size ?? 0n);
    expect(size).toBeGreaterThan(5 * 1024 * 1024);
    const operations = s3
      .requests()
      .filter((entry) => entry.path.endsWith("/recordings/large.mp4"))
      .map((entry) => entry.operation);
    expect(operations[0]).toBe("NewMultipartUpload");
    expect(operations.filter((operation) => operation === "PutObjectPart").length).toBe(
      Math.ceil(size / (5 * 1024 * 1024)),
    );
    expect(operations.at(-1)).toBe("CompleteMultipartUpload");
    expect(operations).not.toContain("PutObject");
    expect((await minioOf(s3).statObject("recordings", "recordings/large.mp4")).size).toBe(size);
  });

  it("retries an upload through a storage outage shorter than its retries", async () => {
    s3.clearRequests();
    // The next two S3 requests (the first two tries of the file) answer 503 SlowDown.
    s3.setFaults({ failNext: 2 });
    const { info, upload } = await recordOnce({ uploadRetryDelayMs: 1 }, s3Output("recordings/retried.mp4"));
    expect(info.status).toBe(EgressStatus.EGRESS_COMPLETE);
    // Three tries of the file, then one of its manifest.
    expect(upload?.attempts).toBe(4);
    const tries = s3.requests().filter((entry) => entry.path.endsWith("/recordings/retried.mp4"));
    expect(tries.map((entry) => entry.status)).toEqual([503, 503, 200]);
  });

  it("fails with egress' error after its 5 tries when the storage stays down and no backup is set", async () => {
    s3.clearRequests();
    s3.failFor(60_000);
    try {
      const { info, upload } = await recordOnce({ uploadRetryDelayMs: 1 }, s3Output("recordings/down.mp4"));
      expect(info.status).toBe(EgressStatus.EGRESS_FAILED);
      expect(info.error).toMatch(/^S3 upload failed: /);
      expect(info.backupStorageUsed).toBe(false);
      expect(upload?.attempts).toBe(5);
      expect(s3.requests().filter((entry) => entry.path.endsWith("/recordings/down.mp4"))).toHaveLength(5);
    } finally {
      s3.resetFaults();
    }
  });

  it("writes the file and its manifest to the backup storage when the primary refuses, and says so", async () => {
    const backup = await startS3Emulator({ buckets: ["spill"] });
    s3.failFor(60_000);
    try {
      const { info, upload } = await recordOnce(
        {
          uploadRetryDelayMs: 1,
          backupStorage: {
            endpoint: backup.url,
            bucket: "spill",
            accessKey: backup.accessKey,
            secret: backup.secretKey,
            region: backup.region,
            forcePathStyle: true,
            prefix: "backup",
          },
        },
        s3Output("recordings/spilled.mp4"),
      );
      expect(info.status).toBe(EgressStatus.EGRESS_COMPLETE);
      expect(info.backupStorageUsed).toBe(true);
      expect(info.fileResults[0]?.filename).toBe("recordings/spilled.mp4");
      expect(info.fileResults[0]?.location).toBe(`${backup.url}/spill/backup/recordings/spilled.mp4`);
      expect(info.manifestLocation).toBe(`${backup.url}/spill/backup/recordings/${info.egressId}.json`);
      // 5 tries at the primary, then 1 at the backup; the manifest goes straight to the backup.
      expect(upload?.attempts).toBe(7);
      const stat = await minioOf(backup).statObject("spill", "backup/recordings/spilled.mp4");
      expect(BigInt(stat.size)).toBe(info.fileResults[0]?.size);
    } finally {
      s3.resetFaults();
      await backup.close();
    }
  });
});
