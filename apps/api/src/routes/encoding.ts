import {
  AUDIO_OVERRIDES,
  type EncodingConfig,
  type EncodingOverrides,
  overridesOutOfBounds,
  type RecordingKind,
} from "@recfleet/config";
import type { FieldError } from "../http/problem.ts";

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
 * uses, and the template allow-list. Every problem becomes one field error.
 */
export function encodingProblems(
  request: {
    kind: RecordingKind;
    encoding?: EncodingOverrides | undefined;
    customBaseUrl?: string | undefined;
  },
  config: EncodingConfig,
): FieldError[] {
  const errors: FieldError[] = [];
  const at = (field: string, message: string): FieldError => ({
    location: "body",
    field,
    pointer: `/${field.replaceAll(".", "/")}`,
    message,
  });
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
  if (request.customBaseUrl !== undefined) {
    if (config.customBaseUrls.length === 0) {
      errors.push(at("customBaseUrl", "custom templates are not enabled on this service"));
    } else if (!isAllowedTemplate(request.customBaseUrl, config.customBaseUrls)) {
      errors.push(at("customBaseUrl", `must start with one of ${config.customBaseUrls.join(", ")}`));
    }
  }
  return errors;
}
