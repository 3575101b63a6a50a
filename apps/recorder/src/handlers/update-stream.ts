import { StreamInfo_Status } from "@livekit/protocol";
import type { JobData } from "@recfleet/queues";
import { outputOfType, redactStreamUrl, shownReportedUrl } from "@recfleet/recordings";
import type { RecorderContext } from "../context.ts";
import { getEgress, updateEgressStreams } from "../egress-calls.ts";
import { classifyEgressError } from "../egress-errors.ts";

/**
 * `update-stream`: add and remove the stream URLs a PATCH named (redacted) on the running egress
 * (UpdateStream). Each is checked against egress' own report first: a URL is added only while
 * still wanted and not streaming, removed only while unwanted and streaming — so a retried job,
 * or two changes handled out of order, end where the last change left the recording.
 */
export async function handleUpdateStream(
  context: RecorderContext,
  data: JobData<"update-stream">,
): Promise<string> {
  const recording = await context.store.get(data.recordingId);
  if (!recording) return "missing";
  if (!outputOfType(recording, "stream")) return "skipped: no stream output";
  if (recording.status !== "starting" && recording.status !== "active") {
    return `skipped: recording is ${recording.status}`;
  }
  if (recording.egressId === null) return "skipped: the Start will carry the URLs";
  const entries = await context.store.streamUrlsOf(recording.id);
  const byShown = new Map(entries.map((entry) => [redactStreamUrl(entry.url), entry]));
  let latest: Map<string, StreamInfo_Status>;
  try {
    const info = await getEgress(context, recording.egressId);
    if (!info) return "skipped: LiveKit no longer knows the egress";
    // Results are appended as URLs are added: the last one of a URL is its current state.
    latest = new Map(info.streamResults.map((result) => [shownReportedUrl(result.url), result.status]));
  } catch (error) {
    if (classifyEgressError(error).class === "not_found")
      return "skipped: LiveKit no longer knows the egress";
    throw error;
  }
  const add = data.add.flatMap((shown) => {
    const entry = byShown.get(shown);
    return entry?.wanted && latest.get(shown) !== StreamInfo_Status.ACTIVE ? [entry.url] : [];
  });
  const remove = data.remove.flatMap((shown) => {
    const entry = byShown.get(shown);
    return entry && !entry.wanted && latest.get(shown) === StreamInfo_Status.ACTIVE ? [entry.url] : [];
  });
  if (add.length === 0 && remove.length === 0) return "skipped: egress already streams as asked";
  const named = `${[...add.map((url) => `+${redactStreamUrl(url)}`), ...remove.map((url) => `-${redactStreamUrl(url)}`)].join(", ")}`;
  try {
    await updateEgressStreams(context, recording.egressId, add, remove);
  } catch (error) {
    const failure = classifyEgressError(error);
    // not_found is also egress' answer for a removed URL it does not stream ("stream … not
    // found"): only a missing egress means it ended.
    const egressGone = failure.class === "not_found" && /egress does not exist/.test(failure.message);
    if (failure.class === "already_ended" || egressGone) return "skipped: the egress has ended";
    if (failure.class === "permanent" || failure.class === "not_found") {
      await context.store.annotate(recording.id, `streams ${named} refused by egress: ${failure.message}`);
      return "refused";
    }
    throw error;
  }
  await context.store.annotate(recording.id, `streams ${named} sent to egress ${recording.egressId}`);
  return "updated";
}
