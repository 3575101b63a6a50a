import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { redactStreamUrl, streamHostOf, streamUrlProblem, urlSchemeOf } from "@recfleet/recordings";
import { nonPublicKind, withArticle, withTimeout } from "@recfleet/runtime";
import { serviceUnavailable } from "../http/dependency.ts";
import type { FieldError } from "../http/problem.ts";
import { bodyFieldError } from "../schemas.ts";

// A stream URL holds its key: nothing here ever repeats a URL, only its host or redacted form.

/** RTMP and RTMPS are one StreamOutput protocol for egress; SRT is the other. */
export function protocolOf(url: string): "rtmp" | "srt" {
  return urlSchemeOf(url) === "srt" ? "srt" : "rtmp";
}

/**
 * What egress would refuse in a set of stream URLs, and what recfleet cannot tell apart: each
 * URL's shape, one protocol for all (the output's and the ones it already has), and redacted
 * forms that differ (a URL is named by that form in answers, jobs and PATCH removals).
 */
export function streamUrlsProblems(
  urls: readonly string[],
  field: string,
  existing: readonly string[] = [],
  protocol?: "rtmp" | "srt",
): FieldError[] {
  const errors: FieldError[] = [];
  const shown = new Set(existing);
  let wanted = protocol;
  urls.forEach((url, index) => {
    const here = `${field}.${index}`;
    const problem = streamUrlProblem(url);
    if (problem) {
      errors.push(bodyFieldError(here, problem));
      return;
    }
    wanted ??= protocolOf(url);
    if (protocolOf(url) !== wanted) {
      errors.push(
        bodyFieldError(
          here,
          `must be ${wanted === "srt" ? "an srt" : "an rtmp or rtmps"} URL like the others (egress streams one protocol per output)`,
        ),
      );
    }
    const redacted = redactStreamUrl(url);
    if (shown.has(redacted)) {
      errors.push(
        bodyFieldError(
          here,
          `is shown as ${redacted} like another of the recording's URLs; stream keys must differ in their first or last three characters`,
        ),
      );
    }
    shown.add(redacted);
  });
  return errors;
}

export interface StreamTargetPolicy {
  /** STREAMS_ALLOW_PRIVATE_TARGETS. */
  allowPrivate: boolean;
}

/** Deadline of one host's resolution: the request waits for it. */
const RESOLVE_TIMEOUT_MS = 3000;

const NO_SUCH_HOST = new Set(["ENOTFOUND", "ENODATA", "ENONAME"]);

/**
 * Refuses stream destinations on the fleet's own network: egress runs there, so a tenant's URL
 * could make it push media to an internal service. Names are resolved now and refused when any
 * address is not public; egress resolves again when it connects, which a name changed in
 * between (DNS rebinding) could still steer — docs/security.md says so.
 */
export async function streamHostProblems(
  urls: readonly string[],
  field: string,
  policy: StreamTargetPolicy,
): Promise<FieldError[]> {
  if (policy.allowPrivate) return [];
  const checks = urls.map(async (url, index): Promise<FieldError | undefined> => {
    if (streamUrlProblem(url)) return undefined;
    const host = streamHostOf(url);
    const here = `${field}.${index}`;
    const refusal = (what: string) =>
      bodyFieldError(
        here,
        `${what}: streams to non-public addresses are not allowed here (STREAMS_ALLOW_PRIVATE_TARGETS)`,
      );
    if (isIP(host) !== 0) {
      const kind = nonPublicKind(host);
      return kind ? refusal(`${host} is ${withArticle(kind)} address`) : undefined;
    }
    let addresses: { address: string }[];
    try {
      addresses = await withTimeout(lookup(host, { all: true }), RESOLVE_TIMEOUT_MS, `resolving ${host}`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (NO_SUCH_HOST.has(code)) return bodyFieldError(here, `names a host that does not exist (${host})`);
      throw serviceUnavailable(`Could not resolve the stream host ${host} to check it; retry later.`);
    }
    for (const { address } of addresses) {
      const kind = nonPublicKind(address);
      if (kind) return refusal(`${host} resolves to ${address}, ${withArticle(kind)} address`);
    }
    return undefined;
  });
  return (await Promise.all(checks)).filter((error): error is FieldError => error !== undefined);
}
