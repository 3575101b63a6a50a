import { createSocket } from "node:dgram";
import { StreamInfo_Status } from "@livekit/protocol";
import {
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  StreamOutput,
  StreamProtocol,
} from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { failure, openRooms, untilEgressStatus, waitFor } from "./egress-support.ts";

// Stream outputs as egress sends them (livekit/egress pkg/config/urls.go, output.go,
// pkg/pipeline/controller.go UpdateStream, streamFinished, streamFailed; builder/stream.go
// Reset; livekit/livekit pkg/service/egress.go UpdateStream), to the emulator's RTMP ingest.

const GOOD_KEYS = ["live_alpha_0123456789", "live_bravo_0123456789", "live_delta_0123456789"];

let emulator: LiveKitEmulator;
let client: EgressClient;
let rtmpBase: string;

const until = (egressId: string, status: EgressStatus) => untilEgressStatus(client, egressId, status);
const infoOf = async (egressId: string) => (await client.listEgress({ egressId }))[0];
const ingest = () => emulator.rtmpIngest?.streams() ?? [];

beforeAll(async () => {
  emulator = await startLiveKitEmulator({
    activationDelayMs: 20,
    logLevel: "error",
    rtmpIngestPort: 0,
    rtmpIngestKeys: GOOD_KEYS,
    streamRetryDelayMs: 50,
    streamGiveUpMs: 400,
  });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
  rtmpBase = `rtmp://127.0.0.1:${emulator.rtmpIngest?.port}/live`;
  openRooms(emulator, ["stream-1", "stream-2", "stream-3", "stream-4", "stream-5", "stream-6", "stream-7"]);
});
afterAll(async () => {
  await emulator?.close();
});

describe("stream outputs", () => {
  it("publishes to the ingest, reports each URL redacted, and follows UpdateStream to its end", async () => {
    const [alpha = "", bravo = ""] = GOOD_KEYS;
    const started = await client.startRoomCompositeEgress(
      "stream-1",
      new StreamOutput({ protocol: StreamProtocol.RTMP, urls: [`${rtmpBase}/${alpha}`] }),
    );
    expect(started.streamResults.map((stream) => stream.url)).toEqual([`${rtmpBase}/{liv...789}`]);
    expect(started.streamResults[0]?.startedAt).toBe(0n);
    // The deprecated single result for a stream-only egress, and the request as EgressInfo keeps it.
    expect(started.result.case).toBe("stream");
    const request = started.request.case === "roomComposite" ? started.request.value : undefined;
    expect(request?.streamOutputs[0]?.urls).toEqual([`${rtmpBase}/{liv...789}`]);

    await until(started.egressId, EgressStatus.EGRESS_ACTIVE);
    const publishing = await waitFor(async () => {
      const info = await infoOf(started.egressId);
      return info && info.streamResults[0]?.startedAt !== 0n ? info : undefined;
    });
    expect(publishing.streamResults[0]?.status).toBe(StreamInfo_Status.ACTIVE);
    await waitFor(() => ingest().find((stream) => stream.key === alpha && stream.mediaMessages >= 2));

    const added = await client.updateStream(started.egressId, [`${rtmpBase}/${bravo}`]);
    expect(added.streamResults.map((stream) => stream.url)).toEqual([
      `${rtmpBase}/{liv...789}`,
      `${rtmpBase}/{liv...789}`,
    ]);
    await waitFor(() => ingest().find((stream) => stream.key === bravo && stream.mediaMessages >= 1));

    // Removed by its whole URL; the first stream finishes, the egress keeps streaming the other.
    const removed = await client.updateStream(started.egressId, [], [`${rtmpBase}/${alpha}`]);
    expect(removed.status).toBe(EgressStatus.EGRESS_ACTIVE);
    expect(removed.streamResults[0]?.status).toBe(StreamInfo_Status.FINISHED);
    expect(removed.streamResults[0]?.endedAt).toBeGreaterThan(0n);
    await waitFor(() => ingest().find((stream) => stream.key === alpha && stream.endedAt !== null));

    // The last one removed: "All streams stopped", and the egress completes.
    await client.updateStream(started.egressId, [], [`${rtmpBase}/${bravo}`]);
    const ended = await until(started.egressId, EgressStatus.EGRESS_COMPLETE);
    expect(ended.details).toBe("End reason: All streams stopped");
    expect(ended.streamResults.map((stream) => stream.status)).toEqual([
      StreamInfo_Status.FINISHED,
      StreamInfo_Status.FINISHED,
    ]);

    const late = await failure(client.updateStream(started.egressId, [`${rtmpBase}/${alpha}`]));
    expect(late).toMatchObject({
      code: "failed_precondition",
      message: "egress with status EGRESS_COMPLETE cannot be updated",
    });
  });

  it("fails a stream the ingest refuses at once, and the egress with it when it was the only output", async () => {
    const started = await client.startRoomCompositeEgress(
      "stream-2",
      new StreamOutput({ urls: [`${rtmpBase}/live_wrong_key_000000`] }),
    );
    const failed = await until(started.egressId, EgressStatus.EGRESS_FAILED);
    expect(failed.error).toBe("publish refused: NetStream.Publish.BadName (Stream key is not valid.)");
    expect(failed.streamResults[0]).toMatchObject({
      url: `${rtmpBase}/{liv...000}`,
      status: StreamInfo_Status.FAILED,
      error: "publish refused: NetStream.Publish.BadName (Stream key is not valid.)",
    });
  });

  it("keeps recording the file when a stream beside it fails", async () => {
    const started = await client.startRoomCompositeEgress("stream-3", {
      file: new EncodedFileOutput({ filepath: "rec/stream-3.mp4" }),
      stream: new StreamOutput({ urls: [`${rtmpBase}/live_wrong_key_000000`] }),
    });
    expect(started.result.case).toBeUndefined();
    await waitFor(async () => {
      const info = await infoOf(started.egressId);
      return info?.streamResults[0]?.status === StreamInfo_Status.FAILED ? info : undefined;
    });
    expect((await infoOf(started.egressId))?.status).toBe(EgressStatus.EGRESS_ACTIVE);
    await client.stopEgress(started.egressId);
    const ended = await until(started.egressId, EgressStatus.EGRESS_COMPLETE);
    expect(ended.fileResults[0]?.filename).toBe("rec/stream-3.mp4");
    expect(ended.streamResults[0]?.status).toBe(StreamInfo_Status.FAILED);
  });

  it("reconnects a stream whose ingest dropped it, counting retries, and gives up once refused for long", async () => {
    const [, , delta = ""] = GOOD_KEYS;
    const started = await client.startRoomCompositeEgress("stream-4", {
      file: new EncodedFileOutput({ filepath: "rec/stream-4.mp4" }),
      stream: new StreamOutput({ urls: [`${rtmpBase}/${delta}`] }),
    });
    await until(started.egressId, EgressStatus.EGRESS_ACTIVE);
    await waitFor(() => ingest().find((stream) => stream.key === delta && stream.mediaMessages >= 1));
    const before = ingest().filter((stream) => stream.key === delta).length;
    emulator.dropRtmpStreams();
    const retried = await waitFor(async () => {
      const info = await infoOf(started.egressId);
      return (info?.streamResults[0]?.retries ?? 0) >= 1 ? info : undefined;
    });
    expect(retried.streamResults[0]?.status).toBe(StreamInfo_Status.ACTIVE);
    expect(retried.streamResults[0]?.lastRetryAt).toBeGreaterThan(0n);
    await waitFor(() =>
      ingest().filter((stream) => stream.key === delta).length > before ? true : undefined,
    );

    // Now every reconnection is refused: past the give-up window the stream fails; the file goes on.
    emulator.rtmpIngest?.setKeys(["another-key-entirely"]);
    emulator.dropRtmpStreams();
    const gaveUp = await waitFor(async () => {
      const info = await infoOf(started.egressId);
      return info?.streamResults[0]?.status === StreamInfo_Status.FAILED ? info : undefined;
    }, 10_000);
    emulator.rtmpIngest?.setKeys(GOOD_KEYS);
    expect(gaveUp.status).toBe(EgressStatus.EGRESS_ACTIVE);
    expect(gaveUp.streamResults[0]?.error).toContain("NetStream.Publish.BadName");
    await client.stopEgress(started.egressId);
    await until(started.egressId, EgressStatus.EGRESS_COMPLETE);
  });

  it("sends SRT datagrams to the listener, showing the URL as given", async () => {
    const listener = createSocket("udp4");
    let datagrams = 0;
    listener.on("message", () => {
      datagrams += 1;
    });
    const port = await new Promise<number>((resolve) =>
      listener.bind(0, "127.0.0.1", () => resolve(listener.address().port)),
    );
    try {
      const url = `srt://127.0.0.1:${port}?streamid=publish:alpha&passphrase=secret-passphrase`;
      const started = await client.startRoomCompositeEgress("stream-5", new StreamOutput({ urls: [url] }));
      expect(started.streamResults[0]?.url).toBe(url);
      const request = started.request.case === "roomComposite" ? started.request.value : undefined;
      expect(request?.streamOutputs[0]?.urls).toEqual([
        `srt://127.0.0.1:${port}?streamid={...}&passphrase={...}`,
      ]);
      await until(started.egressId, EgressStatus.EGRESS_ACTIVE);
      await waitFor(() => (datagrams >= 2 ? true : undefined));
      expect((await infoOf(started.egressId))?.streamResults[0]?.startedAt).toBeGreaterThan(0n);
      await client.stopEgress(started.egressId);
      const ended = await until(started.egressId, EgressStatus.EGRESS_COMPLETE);
      expect(ended.streamResults[0]?.status).toBe(StreamInfo_Status.FINISHED);
    } finally {
      listener.close();
    }
  });

  it("refuses what egress refuses, naming the URL", async () => {
    const noKey = await failure(
      client.startRoomCompositeEgress("stream-6", new StreamOutput({ urls: ["rtmp://ingest.example/app"] })),
    );
    expect(noKey).toMatchObject({
      code: "invalid_argument",
      message:
        "invalid url rtmp://ingest.example/app: rtmp urls must be of format rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1)",
    });
    const mixed = await failure(
      client.startRoomCompositeEgress(
        "stream-6",
        new StreamOutput({ urls: ["rtmp://ingest.example/app/key", "srt://ingest.example:9000"] }),
      ),
    );
    expect(mixed.message).toBe("invalid url srt://ingest.example:9000: invalid scheme");
    const unknown = await failure(
      client.startRoomCompositeEgress(
        "stream-6",
        new StreamOutput({ urls: ["http://ingest.example/app/key"] }),
      ),
    );
    expect(unknown.message).toBe("invalid url http://ingest.example/app/key: invalid protocol");
    const empty = await failure(client.startRoomCompositeEgress("stream-6", new StreamOutput({ urls: [] })));
    expect(empty.message).toBe("request has missing or invalid field: stream protocol");

    const fileOnly = await client.startRoomCompositeEgress(
      "stream-7",
      new EncodedFileOutput({ filepath: "rec/stream-7.mp4" }),
    );
    const notStreaming = await failure(client.updateStream(fileOnly.egressId, [`${rtmpBase}/x`]));
    expect(notStreaming).toMatchObject({
      code: "invalid_argument",
      message: "UpdateStream called on non-streaming egress",
    });
    await client.stopEgress(fileOnly.egressId);
  });

  it("reports every UpdateStream refusal together, after doing the rest", async () => {
    const [alpha = "", bravo = ""] = GOOD_KEYS;
    const started = await client.startRoomCompositeEgress(
      "stream-6",
      new StreamOutput({ urls: [`${rtmpBase}/${alpha}`] }),
    );
    await until(started.egressId, EgressStatus.EGRESS_ACTIVE);
    const refused = await failure(
      client.updateStream(
        started.egressId,
        ["rtmp://ingest.example/app", `${rtmpBase}/${bravo}`],
        [`${rtmpBase}/nope`],
      ),
    );
    expect(refused.code).toBe("invalid_argument");
    expect(refused.message).toBe(
      "invalid url rtmp://ingest.example/app: rtmp urls must be of format rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1)\n" +
        `stream ${rtmpBase}/nope not found`,
    );
    const info = await infoOf(started.egressId);
    expect(info?.streamResults).toHaveLength(2);
    await client.stopEgress(started.egressId);
  });
});
