import type { CallbackEvent } from "@recfleet/config";
import type { CallbackPayload, Recording } from "@recfleet/recordings";
import type { ArtifactLink, DownloadLink } from "../links.ts";

/** The callback body of an event (its shape: callbackPayloadSchema, published in the OpenAPI). */
export function callbackPayload(
  event: CallbackEvent,
  occurredAt: string,
  recording: Recording,
  download: DownloadLink | null,
  others: readonly ArtifactLink[] = [],
): CallbackPayload {
  const linkOf = (link: DownloadLink) => ({
    url: link.url,
    expiresAt: link.expiresAt?.toISOString() ?? null,
  });
  return {
    type: event,
    timestamp: occurredAt,
    data: {
      id: recording.id,
      tenant: recording.tenant,
      room: recording.room,
      kind: recording.kind,
      source: recording.source,
      outputs: recording.outputs,
      profile: recording.profile,
      layout: recording.layout,
      status: recording.status,
      egressId: recording.egressId,
      metadata: recording.metadata,
      error: recording.error,
      file: recording.file ? { size: recording.file.size, contentType: recording.file.contentType } : null,
      download: download ? linkOf(download) : null,
      // A recording has at most one object of each type: links are matched by type.
      artifacts: recording.artifacts.map((artifact) => {
        const other = others.find((candidate) => candidate.type === artifact.type);
        return {
          type: artifact.type,
          size: artifact.size,
          contentType: artifact.contentType,
          count: artifact.count,
          download: other ? linkOf(other.link) : null,
        };
      }),
      streams: recording.streams,
      expiresAt: recording.expiresAt,
      deleteRequested: recording.deleteRequested,
      createdAt: recording.createdAt,
      startedAt: recording.startedAt,
      endedAt: recording.endedAt,
    },
  };
}
