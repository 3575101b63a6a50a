import type { CallbackEvent } from "@recfleet/config";
import type { CallbackPayload, Recording } from "@recfleet/recordings";
import type { DownloadLink } from "../links.ts";

/** The callback body of an event (its shape: callbackPayloadSchema, published in the OpenAPI). */
export function callbackPayload(
  event: CallbackEvent,
  occurredAt: string,
  recording: Recording,
  download: DownloadLink | null,
): CallbackPayload {
  return {
    type: event,
    timestamp: occurredAt,
    data: {
      id: recording.id,
      tenant: recording.tenant,
      room: recording.room,
      kind: recording.kind,
      source: recording.source,
      profile: recording.profile,
      layout: recording.layout,
      status: recording.status,
      egressId: recording.egressId,
      metadata: recording.metadata,
      error: recording.error,
      file: recording.file ? { size: recording.file.size, contentType: recording.file.contentType } : null,
      download: download ? { url: download.url, expiresAt: download.expiresAt?.toISOString() ?? null } : null,
      expiresAt: recording.expiresAt,
      deleteRequested: recording.deleteRequested,
      createdAt: recording.createdAt,
      startedAt: recording.startedAt,
      endedAt: recording.endedAt,
    },
  };
}
