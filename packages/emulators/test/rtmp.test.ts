import { freePort } from "@recfleet/runtime";
import { eventually } from "@recfleet/testing";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Publication, publishRtmp, type RtmpEndpoint, RtmpIngest } from "../src/rtmp/index.ts";

// The RTMP pair the egress emulator streams with: its publisher against its ingest, over real
// TCP, through the handshake, connect, createStream and publish.

const logger = pino({ level: "silent" });
let ingest: RtmpIngest;
let port: number;

beforeAll(async () => {
  ingest = new RtmpIngest({ logger, keys: ["live_good_key_123"] });
  port = await ingest.start();
});
afterAll(() => ingest.close());

interface Watched {
  publication: Publication;
  started: () => boolean;
  ended: () => Error | null | undefined;
}

function publish(endpoint: Partial<RtmpEndpoint>): Watched {
  let started = false;
  let ended: Error | null | undefined;
  const publication = publishRtmp(
    { tls: false, host: "127.0.0.1", port, app: "live", key: "live_good_key_123", ...endpoint },
    { connectTimeoutMs: 5_000, mediaIntervalMs: 20 },
    {
      started: () => {
        started = true;
      },
      ended: (error) => {
        ended = error;
      },
    },
  );
  return { publication, started: () => started, ended: () => ended };
}

describe("RTMP publish to the ingest", () => {
  it("publishes with the key, sends media until stopped, and the ingest sees it end", async () => {
    const watched = publish({ app: "app/nested" });
    await eventually(() => (watched.started() ? true : undefined), { what: "NetStream.Publish.Start" });
    await eventually(
      () => ingest.streams().find((stream) => stream.app === "app/nested" && stream.mediaMessages >= 3),
      { what: "three media messages at the ingest" },
    );
    watched.publication.stop();
    expect(watched.ended()).toBeNull();
    const seen = await eventually(
      () => ingest.streams().find((stream) => stream.app === "app/nested" && stream.endedAt !== null),
      { what: "the ingest to see the publish end" },
    );
    expect(seen).toMatchObject({ key: "live_good_key_123", keyHint: "liv…123", refused: false });
    expect(seen.mediaBytes).toBeGreaterThan(0);
  });

  it("is refused NetStream.Publish.BadName for a key the ingest does not take", async () => {
    const watched = publish({ app: "badkey", key: "not-a-key-at-all" });
    const error = await eventually(() => watched.ended() ?? undefined, { what: "the refusal" });
    expect(error.message).toBe("publish refused: NetStream.Publish.BadName (Stream key is not valid.)");
    expect(watched.started()).toBe(false);
    expect(ingest.streams().find((stream) => stream.app === "badkey")).toMatchObject({ refused: true });
  });

  it("ends with the server's close when the ingest drops the connection", async () => {
    const watched = publish({ app: "dropped" });
    await eventually(() => (watched.started() ? true : undefined), { what: "the publish" });
    expect(ingest.dropAll()).toBeGreaterThanOrEqual(1);
    const error = await eventually(() => watched.ended() ?? undefined, { what: "the drop" });
    expect(error.message).toBe("connection closed by the server");
  });

  it("fails at once when nothing listens", async () => {
    const watched = publish({ port: await freePort() });
    const error = await eventually(() => watched.ended() ?? undefined, { what: "the refused connection" });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("fails when the peer does not speak RTMP", async () => {
    const { createServer } = await import("node:net");
    const server = createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n".padEnd(4000, " ")));
    const httpPort = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const watched = publish({ port: httpPort });
      const error = await eventually(() => watched.ended() ?? undefined, { what: "the protocol error" });
      expect(error.message).toBe("server answered RTMP version 72");
    } finally {
      server.close();
    }
  });
});
