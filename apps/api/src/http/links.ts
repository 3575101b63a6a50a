import { isInProgress, type Recording } from "@recfleet/recordings";

/**
 * The base of every absolute link: API_PUBLIC_URL without its trailing slash. Never the request's
 * Host header, which a client chooses (a forged one would put its host into links and emails).
 */
export function linkBase(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, "");
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
