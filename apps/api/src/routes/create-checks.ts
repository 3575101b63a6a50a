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

/** Whether a customBaseUrl lies under one of the operator's template base URLs. */
export function isAllowedTemplate(candidate: string, allowed: readonly string[]): boolean {
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
    source?: { type: string; videoTrackId?: string | undefined } | undefined;
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
  errors.push(...outputProblems(request.kind, request.outputs ?? [], config));
  if (request.customBaseUrl !== undefined && (!source || source.type === "room")) {
    if (config.customBaseUrls.length === 0) {
      errors.push(at("customBaseUrl", "custom templates are not enabled on this service"));
    } else if (!isAllowedTemplate(request.customBaseUrl, config.customBaseUrls)) {
      errors.push(at("customBaseUrl", `must start with one of ${config.customBaseUrls.join(", ")}`));
    }
  }
  return errors;
}

const MULTIPLE: Record<string, string> = {
  file: "multiple file outputs",
  hls: "multiple segmented file outputs",
  images: "multiple image outputs",
  stream: "multiple stream outputs",
};

/** Egress' rules for outputs: one of each type, the kind's container, no images of audio, stream URLs it takes. */
function outputProblems(
  kind: RecordingKind,
  outputs: NonNullable<Parameters<typeof createRequestProblems>[0]["outputs"]>,
  config: EncodingConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const at = bodyFieldError;
  const seen = new Set<string>();
  outputs.forEach((output, index) => {
    const here = `outputs.${index}`;
    if (seen.has(output.type)) {
      errors.push(
        at(here, `repeats a ${output.type} output: one of each type (egress: ${MULTIPLE[output.type]})`),
      );
    }
    seen.add(output.type);
    const container = kind === "audio" ? "ogg" : "mp4";
    if (output.format !== undefined && output.format !== container) {
      errors.push(
        at(
          `${here}.format`,
          `must be ${container} for ${kind === "audio" ? "an audio" : "a video"} recording`,
        ),
      );
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
