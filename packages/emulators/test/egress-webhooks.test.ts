import {
  EgressClient,
  EgressStatus,
  EncodedFileOutput,
  EncodedFileType,
  type WebhookEvent,
  WebhookReceiver,
} from "livekit-server-sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LiveKitEmulator, startLiveKitEmulator } from "../src/livekit/index.ts";
import { openRooms, startWebhookSink, type WebhookSink, waitFor } from "./egress-support.ts";

let sink: WebhookSink;
let emulator: LiveKitEmulator;
let client: EgressClient;
let receiver: WebhookReceiver;

const file = (filepath: string) => new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath });

async function verifiedEvents(egressId: string): Promise<WebhookEvent[]> {
  const events: WebhookEvent[] = [];
  for (const webhook of sink.received) {
    const event = await receiver.receive(webhook.body, webhook.authorization);
    if (event.egressInfo?.egressId === egressId) events.push(event);
  }
  return events;
}

async function runToCompletion(roomName: string): Promise<string> {
  const started = await client.startRoomCompositeEgress(roomName, { file: file(`${roomName}.mp4`) });
  await waitFor(() =>
    emulator.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined,
  );
  await client.stopEgress(started.egressId);
  await emulator.idle();
  return started.egressId;
}

beforeAll(async () => {
  sink = await startWebhookSink();
  emulator = await startLiveKitEmulator({
    activationDelayMs: 20,
    webhookUrl: sink.url,
    webhookRetryDelayMs: 20,
    logLevel: "error",
  });
  client = new EgressClient(emulator.url, emulator.apiKey, emulator.apiSecret);
  receiver = new WebhookReceiver(emulator.apiKey, emulator.apiSecret);
});

const ROOMS = ["room-w1", "room-w2", "room-w3", "room-w4", "room-w5", "room-w6", "room-w7", "room-w8"];

beforeEach(async () => {
  openRooms(emulator, ROOMS);
  // Their room events are not what these tests look at.
  await emulator.idle();
  sink.received.length = 0;
});

afterEach(async () => {
  await emulator.idle();
  emulator.reset();
  sink.received.length = 0;
});

afterAll(async () => {
  await emulator.close();
  await sink.close();
});

describe("egress webhooks", () => {
  it("arrive signed as LiveKit signs them, in order: started, updated ACTIVE, updated ENDING, ended COMPLETE", async () => {
    const egressId = await runToCompletion("room-w1");

    for (const webhook of sink.received) {
      expect(webhook.contentType).toBe("application/webhook+json");
      expect(webhook.authorization).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    const events = await verifiedEvents(egressId);
    expect(events.map((event) => [event.event, event.egressInfo?.status])).toEqual([
      ["egress_started", EgressStatus.EGRESS_STARTING],
      ["egress_updated", EgressStatus.EGRESS_ACTIVE],
      ["egress_updated", EgressStatus.EGRESS_ENDING],
      ["egress_ended", EgressStatus.EGRESS_COMPLETE],
    ]);
    for (const event of events) {
      expect(event.id).toMatch(/^EV_/);
      expect(Number(event.createdAt)).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    expect(new Set(events.map((event) => event.id)).size).toBe(4);
    expect(events.at(-1)?.egressInfo?.fileResults[0]?.filename).toBe("room-w1.mp4");

    // Protobuf-JSON in camelCase with int64 as strings, defaults left out.
    const raw = JSON.parse(sink.received.at(-1)?.body ?? "{}") as Record<string, unknown>;
    expect(raw).toMatchObject({ event: "egress_ended", egressInfo: { egressId, status: "EGRESS_COMPLETE" } });
    expect(typeof raw.createdAt).toBe("string");
    expect(raw).not.toHaveProperty("numDropped");
  });

  it("carry a signature that covers the body: a changed body no longer verifies", async () => {
    await runToCompletion("room-w2");
    const [first] = sink.received;
    expect(first).toBeDefined();
    const tampered = (first?.body ?? "").replace("room-w2", "room-zz");
    await expect(receiver.receive(tampered, first?.authorization)).rejects.toThrow(/sha256 checksum/);
    await expect(
      new WebhookReceiver(emulator.apiKey, "another-secret").receive(first?.body ?? "", first?.authorization),
    ).rejects.toThrow();
  });

  it("are sent again on request, the same id and body newly signed, as LiveKit's at-least-once delivery does", async () => {
    const egressId = await runToCompletion("room-w4");
    const [started] = await verifiedEvents(egressId);
    const again = emulator.resendWebhook(started?.id ?? "");
    expect(again).toMatchObject({ id: started?.id, event: "egress_started", outcome: "pending" });
    expect(emulator.resendWebhook("EV_unknown")).toBeUndefined();
    await emulator.idle();
    const events = await verifiedEvents(egressId);
    expect(events.map((event) => event.event)).toEqual([
      "egress_started",
      "egress_updated",
      "egress_updated",
      "egress_ended",
      "egress_started",
    ]);
    expect(events.at(-1)?.id).toBe(started?.id);
    expect(events.at(-1)?.toJsonString()).toBe(started?.toJsonString());
  });

  it("are never delivered when the drop fault takes them all", async () => {
    emulator.setFaults({ dropWebhooks: 1 });
    await runToCompletion("room-w3");
    expect(sink.received).toEqual([]);
    const deliveries = emulator.webhooks().filter((delivery) => delivery.egressId !== null);
    expect(deliveries.map((delivery) => [delivery.event, delivery.outcome, delivery.dropReason])).toEqual([
      ["egress_started", "dropped", "fault"],
      ["egress_updated", "dropped", "fault"],
      ["egress_updated", "dropped", "fault"],
      ["egress_ended", "dropped", "fault"],
    ]);
  });

  it("are retried when the receiver answers 500, and not when it answers 4xx", async () => {
    sink.answerNext(500, 503);
    const egressId = await runToCompletion("room-w4");
    const deliveries = emulator.webhooks().filter((delivery) => delivery.egressId === egressId);
    expect(deliveries[0]).toMatchObject({
      event: "egress_started",
      outcome: "sent",
      attempts: 3,
      responseStatus: 200,
    });
    expect((await verifiedEvents(egressId)).map((event) => event.event)).toEqual([
      "egress_started",
      "egress_started",
      "egress_started",
      "egress_updated",
      "egress_updated",
      "egress_ended",
    ]);

    emulator.reset();
    openRooms(emulator, ["room-w5"]);
    await emulator.idle();
    sink.received.length = 0;
    sink.answerNext(401);
    await runToCompletion("room-w5");
    expect(emulator.webhooks().find((delivery) => delivery.egressId !== null)).toMatchObject({
      outcome: "sent",
      attempts: 1,
      responseStatus: 401,
    });
    expect(sink.received).toHaveLength(4);
  });

  it("end with egress_ended EGRESS_FAILED for a failed egress, and with nothing for a crashed one", async () => {
    emulator.setFaults({ failNext: 1 });
    const failed = await client.startRoomCompositeEgress("room-w6", { file: file("f.mp4") });
    await waitFor(() => (emulator.egress(failed.egressId)?.running === false ? true : undefined));
    emulator.setFaults({ crashNext: 1 });
    const crashed = await client.startRoomCompositeEgress("room-w6", { file: file("c.mp4") });
    await waitFor(() => (emulator.egress(crashed.egressId)?.crashed ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await emulator.idle();

    const failedEvents = await verifiedEvents(failed.egressId);
    expect(failedEvents.map((event) => event.event)).toEqual([
      "egress_started",
      "egress_updated",
      "egress_ended",
    ]);
    expect(failedEvents.at(-1)?.egressInfo).toMatchObject({
      status: EgressStatus.EGRESS_FAILED,
      error: "recording ended early: connection to room failed",
    });
    const crashedEvents = await verifiedEvents(crashed.egressId);
    expect(crashedEvents.map((event) => event.event)).toEqual(["egress_started", "egress_updated"]);
  });

  it("are dropped when they wait longer than their maximum age behind a stuck delivery", async () => {
    const stuck = await startWebhookSink();
    const slow = await startLiveKitEmulator({
      activationDelayMs: 0,
      webhookUrl: stuck.url,
      webhookTimeoutMs: 200,
      webhookRetries: 0,
      webhookMaxAgeMs: 100,
      logLevel: "silent",
    });
    try {
      openRooms(slow, ["room-w8"]);
      await slow.idle();
      const roomEvents = stuck.received.length;
      stuck.answerNext(0);
      const sdk = new EgressClient(slow.url, slow.apiKey, slow.apiSecret);
      const started = await sdk.startRoomCompositeEgress("room-w8", { file: file("w8.mp4") });
      await waitFor(() =>
        slow.egress(started.egressId)?.info.status === "EGRESS_ACTIVE" ? true : undefined,
      );
      await slow.idle();
      expect(
        slow
          .webhooks()
          .filter((delivery) => delivery.egressId !== null)
          .map((delivery) => [delivery.event, delivery.outcome, delivery.dropReason]),
      ).toEqual([
        ["egress_started", "failed", undefined],
        ["egress_updated", "dropped", "age"],
      ]);
      expect(stuck.received).toHaveLength(roomEvents + 1);
    } finally {
      await slow.close();
      await stuck.close();
    }
  });

  it("are given up after their retries when the receiver is gone", async () => {
    const gone = await startWebhookSink();
    const url = gone.url;
    await gone.close();
    const lonely = await startLiveKitEmulator({
      activationDelayMs: 0,
      webhookUrl: url,
      webhookRetries: 1,
      webhookRetryDelayMs: 10,
      logLevel: "silent",
    });
    try {
      openRooms(lonely, ["room-w7"]);
      const sdk = new EgressClient(lonely.url, lonely.apiKey, lonely.apiSecret);
      await sdk.startRoomCompositeEgress("room-w7", { file: file("w7.mp4") });
      await lonely.idle();
      expect(lonely.webhooks().find((delivery) => delivery.egressId !== null)).toMatchObject({
        event: "egress_started",
        outcome: "failed",
        attempts: 2,
      });
    } finally {
      await lonely.close();
    }
  });
});
