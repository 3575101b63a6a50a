import {
  AUDIO_OVERRIDES,
  type EncodingConfig,
  type EncodingOverrides,
  overridesOutOfBounds,
  type RecordingKind,
} from "@recfleet/config";
import type { FieldError } from "../http/problem.ts";
import { bodyFieldError } from "../schemas.ts";
import { streamUrlsProblems } from "./stream-targets.ts";

/** Whether a URL lies under one of the operator's base URLs (same origin, path under it, no credentials). */
export function isUnderBaseUrl(candidate: string, allowed: readonly string[]): boolean {
  if (!URL.canParse(candidate)) return false;
  const url = new URL(candidate);
  if (url.username !== "" || url.password !== "") return false;
  return allowed.some((entry) => {
    const base = new URL(entry);
    if (url.origin !== base.origin) return false;
    const under = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
    return url.pathname === base.pathname || url.pathname.startsWith(under);
  });
}

/**
 * What the static request schema cannot know: the operator's bounds, which overrides a kind
 * uses, what a source can be recorded as, and the template allow-list. Every problem becomes one
 * field error.
 */
export function createRequestProblems(
  request: {
    kind: RecordingKind;
    source?: { type: string; videoTrackId?: string | undefined; url?: string | undefined } | undefined;
    profile?: string | undefined;
    roomWaitSeconds?: number | undefined;
    layout?: string | undefined;
    encoding?: EncodingOverrides | undefined;
    customBaseUrl?: string | undefined;
    outputs?:
      | readonly {
          type: string;
          format?: string | undefined;
          width?: number | undefined;
          height?: number | undefined;
          urls?: readonly string[] | undefined;
        }[]
      | undefined;
  },
  config: EncodingConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const at = bodyFieldError;
  if (request.encoding) {
    for (const { field, message } of overridesOutOfBounds(request.encoding, config)) {
      errors.push(at(`encoding.${field}`, message));
    }
    if (request.kind === "audio") {
      for (const field of Object.keys(request.encoding) as (keyof EncodingOverrides)[]) {
        if (!AUDIO_OVERRIDES.includes(field)) {
          errors.push(
            at(`encoding.${field}`, "does not apply to an audio recording (only audioBitrate does)"),
          );
        }
      }
    }
  }
  // What each source can be recorded as (egress: a participant brings audio and video; a
  // composite of tracks carries the kinds of its tracks).
  const source = request.source;
  if (source && source.type !== "room") {
    for (const field of ["layout", "customBaseUrl"] as const) {
      if (request[field] !== undefined) errors.push(at(field, "applies to a room source only"));
    }
    if (request.kind === "audio" && source.type === "participant") {
      errors.push(at("kind", "must be video for a participant (egress records its camera and microphone)"));
    }
    if (request.kind === "audio" && source.type === "tracks" && source.videoTrackId !== undefined) {
      errors.push(at("source.videoTrackId", "has no place in an audio recording"));
    }
  }
  if (source?.type === "track") {
    // Track egress copies the track's packets: a profile or override would be silently unused.
    for (const field of ["profile", "encoding"] as const) {
      if (request[field] !== undefined) {
        errors.push(
          at(field, "does not apply to a track source: egress records the track without transcoding"),
        );
      }
    }
  }
  if (source?.type === "web") {
    if (request.roomWaitSeconds !== undefined) {
      errors.push(
        at("roomWaitSeconds", "has no place in a web recording: egress opens the page, not a room"),
      );
    }
    const url = source.url ?? "";
    if (config.webSourceUrls.length === 0) {
      errors.push(at("source.url", "web sources are not enabled on this service"));
    } else if (!isUnderBaseUrl(url, config.webSourceUrls)) {
      errors.push(at("source.url", `must start with one of ${config.webSourceUrls.join(", ")}`));
    }
  }
  errors.push(...outputProblems(request.kind, source?.type ?? "room", request.outputs ?? [], config));
  if (request.customBaseUrl !== undefined && (!source || source.type === "room")) {
    if (config.customBaseUrls.length === 0) {
      errors.push(at("customBaseUrl", "custom templates are not enabled on this service"));
    } else if (!isUnderBaseUrl(request.customBaseUrl, config.customBaseUrls)) {
      errors.push(at("customBaseUrl", `must start with one of ${config.customBaseUrls.join(", ")}`));
    }
  }
  return errors;
}

/** The containers a file may be in: the kind's, or for a track the ones its codec may give. */
function allowedFormats(kind: RecordingKind, sourceType: string): readonly string[] {
  if (sourceType === "track") return kind === "audio" ? ["ogg"] : ["mp4", "webm"];
  return [kind === "audio" ? "ogg" : "mp4"];
}

const MULTIPLE: Record<string, string> = {
  file: "multiple file outputs",
  hls: "multiple segmented file outputs",
  images: "multiple image outputs",
  stream: "multiple stream outputs",
};

/**
 * Egress' rules for outputs: one of each type, the kind's container, no images of audio, stream
 * URLs it takes; a track egress writes one file and nothing else.
 */
function outputProblems(
  kind: RecordingKind,
  sourceType: string,
  outputs: NonNullable<Parameters<typeof createRequestProblems>[0]["outputs"]>,
  config: EncodingConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const at = bodyFieldError;
  const seen = new Set<string>();
  const formats = allowedFormats(kind, sourceType);
  outputs.forEach((output, index) => {
    const here = `outputs.${index}`;
    if (seen.has(output.type)) {
      errors.push(
        at(here, `repeats a ${output.type} output: one of each type (egress: ${MULTIPLE[output.type]})`),
      );
    }
    seen.add(output.type);
    if (sourceType === "track" && output.type !== "file") {
      errors.push(
        at(here, "has no place beside a track source: track egress writes one file and nothing else"),
      );
      return;
    }
    if (output.format !== undefined && !formats.includes(output.format)) {
      const what =
        sourceType === "track"
          ? `${kind === "audio" ? "an audio track (Opus: ogg)" : "a video track (H.264: mp4, VP8/VP9: webm)"}`
          : `${kind === "audio" ? "an audio" : "a video"} recording`;
      errors.push(at(`${here}.format`, `must be ${formats.join(" or ")} for ${what}`));
    }
    if (output.type === "stream") errors.push(...streamUrlsProblems(output.urls ?? [], `${here}.urls`));
    if (output.type === "images") {
      if (kind === "audio")
        errors.push(at(here, "has no place in an audio recording (egress: audio_only images)"));
      if (output.width !== undefined && output.width > config.maxWidth) {
        errors.push(at(`${here}.width`, `must be at most ${config.maxWidth} (ENCODING_MAX_WIDTH)`));
      }
      if (output.height !== undefined && output.height > config.maxHeight) {
        errors.push(at(`${here}.height`, `must be at most ${config.maxHeight} (ENCODING_MAX_HEIGHT)`));
      }
    }
  });
  return errors;
}
