import type { EgressInfo } from "@livekit/protocol";
import type { Recording } from "@recfleet/recordings";
import type { RecorderContext } from "./context.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { buildStartRequest, outputOf, writesPlannedOutput } from "./start-request.ts";

type Method = "start" | "stop" | "list" | "update_layout";

/** Runs one Egress API call, recording its latency and error code. */
async function measured<T>(context: RecorderContext, method: Method, call: () => Promise<T>): Promise<T> {
  const end = context.metrics.egressCalls.startTimer({ method });
  try {
    const result = await call();
    end({ outcome: "ok" });
    return result;
  } catch (error) {
    const { code } = classifyEgressError(error);
    end({ outcome: code });
    context.metrics.egressErrors.inc({ method, code });
    throw error;
  }
}

export function startEgress(context: RecorderContext, recording: Recording): Promise<EgressInfo> {
  const request = buildStartRequest(recording, context.profiles, context.storage);
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
  const items = await measured(context, "list", () =>
    context.egress.listEgress({ roomName: recording.room, active: true }),
  );
  return items.find((item) => writesPlannedOutput(item, planned));
}

/** Every egress LiveKit reports as running (all rooms), for the orphan sweep. */
export function listActiveEgresses(context: RecorderContext): Promise<EgressInfo[]> {
  return measured(context, "list", () => context.egress.listEgress({ active: true }));
}
