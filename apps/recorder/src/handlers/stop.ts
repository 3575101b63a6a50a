import type { JobData } from "@recfleet/queues";
import type { RecorderContext } from "../context.ts";
import { stopRecordingEgress } from "./stop-egress.ts";

export async function handleStop(context: RecorderContext, data: JobData<"stop">): Promise<string> {
  const { store } = context;
  const { recordingId } = data;
  const reason = data.reason ?? "stop requested";
  for (let round = 0; round < 3; round += 1) {
    const recording = await store.get(recordingId);
    if (!recording) return "missing";
    switch (recording.status) {
      case "queued": {
        const result = await store.transition(recordingId, "cancelled", {
          reason: `${reason} before it started`,
        });
        if (result.ok) return "cancelled";
        continue; // a recorder picked it up meanwhile: handle it as starting
      }
      case "starting":
        if (!recording.egressId) {
          // Start is in flight, or waits (for its room, for capacity): the start handler stops
          // the egress as soon as it has an id, or cancels. A waiting start is woken to do so now.
          await store.requestStop(recordingId, `${reason} while the egress is starting`);
          const start = await context.producer.queue("control").getJob(`start-${recordingId}`);
          if (start && (await start.isDelayed())) await start.promote();
          return "stop requested";
        }
        return stopRecordingEgress(context, recording, recording.egressId);
      case "active":
      case "stopping":
        if (!recording.egressId) return "no egress";
        return stopRecordingEgress(context, recording, recording.egressId);
      default:
        return `nothing to stop (${recording.status})`;
    }
  }
  return "gave up: recording kept changing";
}
