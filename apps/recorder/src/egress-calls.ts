import type { EgressInfo } from "@livekit/protocol";
import { outputOfType, type Recording, recordsRoom, scrubStreamUrls } from "@recfleet/recordings";
import type { RecorderContext } from "./context.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { buildStartRequest, outputOf, writesPlannedOutput } from "./start-request.ts";

type Method = "start" | "stop" | "list" | "update_layout" | "update_stream";

/**
 * Runs one Egress API call, recording its latency and error code. Egress names a bad stream URL
 * whole in its error: the message is redacted here, before any handler, log or job sees it.
 */
async function measured<T>(context: RecorderContext, method: Method, call: () => Promise<T>): Promise<T> {
  const end = context.metrics.egressCalls.startTimer({ method });
  try {
    const result = await call();
    end({ outcome: "ok" });
    return result;
  } catch (error) {
    // Only a message that names a URL is rewritten: some errors (a DOMException timeout) have a
    // read-only message, and their class must not change.
    const scrubbed = error instanceof Error ? scrubStreamUrls(error.message) : undefined;
    if (error instanceof Error && scrubbed !== error.message) {
      Object.defineProperty(error, "message", { value: scrubbed, configurable: true });
    }
    const { code } = classifyEgressError(error);
    end({ outcome: code });
    context.metrics.egressErrors.inc({ method, code });
    throw error;
  }
}

export async function startEgress(context: RecorderContext, recording: Recording): Promise<EgressInfo> {
  const streamUrls = outputOfType(recording, "stream")
    ? (await context.store.streamUrlsOf(recording.id))
        .filter((entry) => entry.wanted)
        .map((entry) => entry.url)
    : [];
  const request = buildStartRequest(recording, context.profiles, context.storage, streamUrls);
  const { egress } = context;
  return measured(context, "start", () => {
    switch (request.method) {
      case "roomComposite":
        return egress.startRoomCompositeEgress(request.roomName, request.output, request.options);
      case "participant":
        return egress.startParticipantEgress(
          request.roomName,
          request.identity,
          request.output,
          request.options,
        );
      case "trackComposite":
        return egress.startTrackCompositeEgress(request.roomName, request.output, request.options);
      case "track":
        return egress.startTrackEgress(request.roomName, request.output, request.trackId);
      case "web":
        return egress.startWebEgress(request.url, request.output, request.options);
    }
  });
}

export function stopEgress(context: RecorderContext, egressId: string): Promise<EgressInfo> {
  return measured(context, "stop", () => context.egress.stopEgress(egressId));
}

export function updateEgressLayout(
  context: RecorderContext,
  egressId: string,
  layout: string,
): Promise<EgressInfo> {
  return measured(context, "update_layout", () => context.egress.updateLayout(egressId, layout));
}

export function updateEgressStreams(
  context: RecorderContext,
  egressId: string,
  add: string[],
  remove: string[],
): Promise<EgressInfo> {
  return measured(context, "update_stream", () => context.egress.updateStream(egressId, add, remove));
}

export async function getEgress(context: RecorderContext, egressId: string): Promise<EgressInfo | undefined> {
  const items = await measured(context, "list", () => context.egress.listEgress({ egressId }));
  return items.find((item) => item.egressId === egressId);
}

/**
 * An egress already running for this recording: Start is not idempotent, so before any retried
 * start we look for one that writes this recording's outputs, and adopt it.
 */
export async function findRunningEgress(
  context: RecorderContext,
  recording: Recording,
): Promise<EgressInfo | undefined> {
  const planned = outputOf(recording, context.profiles, context.storage);
  // A web egress is in no room: LiveKit lists it under the room name "".
  const roomName = recordsRoom(recording.source) ? recording.room : undefined;
  const items = await measured(context, "list", () =>
    context.egress.listEgress({ ...(roomName !== undefined ? { roomName } : {}), active: true }),
  );
  return items.find((item) =>
    writesPlannedOutput(item, planned, outputOfType(recording, "stream")?.urls ?? []),
  );
}

/** Every egress LiveKit reports as running (all rooms), for the orphan sweep. */
export function listActiveEgresses(context: RecorderContext): Promise<EgressInfo[]> {
  return measured(context, "list", () => context.egress.listEgress({ active: true }));
}
