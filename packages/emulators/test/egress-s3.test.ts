import { EgressClient, EgressStatus, EncodedFileOutput, EncodedFileType, S3Upload } from "livekit-server-sdk";
import { Client } from "minio";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { type S3Emulator, startS3Emulator } from "../src/s3/index.ts";
import { openRooms, waitFor } from "./egress-support.ts";

let s3: S3Emulator;
let egress: LiveKitEmulator;

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ["recordings"] });
  egress = await startLiveKitEmulator({ activationDelayMs: 20, logLevel: "error" });
});

const ROOMS = ["room-s3"];

beforeEach(() => openRooms(egress, ROOMS));

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
});
