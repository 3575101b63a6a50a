import { isInProgress, type Recording } from "@recfleet/recordings";
import type { Request } from "express";

/** Builds absolute links: from API_PUBLIC_URL when set, else from the request's host. */
export type LinkBase = (req: Request) => string;

export function linkBase(publicUrl: string): LinkBase {
  const fixed = publicUrl.replace(/\/+$/, "");
  return (req) => fixed || `${req.protocol}://${req.host}`;
}

export function recordingUrl(base: string, id: string): string {
  return `${base}/v1/recordings/${encodeURIComponent(id)}`;
}

/** A recording as the API shows it: the stored document plus its links. */
export function presentRecording(base: string, recording: Recording) {
  const self = recordingUrl(base, recording.id);
  return {
    ...recording,
    links: { self, stop: isInProgress(recording.status) ? `${self}/stop` : null },
  };
}
