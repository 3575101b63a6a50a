import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AUDIO_OVERRIDES,
  CALLBACK_EVENTS,
  ConfigError,
  type EncodingConfig,
  encodingOverridesSchema,
  LAYOUTS,
  loadTenants,
  overridesOutOfBounds,
  TENANT_NAME,
} from "@recfleet/config";
import type { Recording } from "@recfleet/recordings";
import { PLANTED_KEY, PLANTED_SECRET, type TenantFile } from "./tenant-files.ts";

/**
 * What the docs refuse, checked on what the fleet accepted: a recording created by a fuzzed
 * request must hold only overrides within egress' rules and the operator's bounds, a layout
 * egress has, and no custom template (the chaos fleet allows none).
 */
export function acceptedRecordingProblems(recording: Recording, bounds: EncodingConfig): string[] {
  const problems: string[] = [];
  const what = `recording ${recording.id}`;
  if (!(LAYOUTS as readonly string[]).includes(recording.layout))
    problems.push(`${what}: layout ${recording.layout}`);
  const { source } = recording;
  if (source.type !== "room" && recording.customBaseUrl !== null) {
    problems.push(`${what}: a custom template for a ${source.type} source`);
  }
  if (source.type === "participant" && (recording.kind !== "video" || source.identity === "")) {
    problems.push(`${what}: participant source with kind ${recording.kind} or no identity`);
  }
  if (source.type === "tracks") {
    if (source.audioTrackId === null && source.videoTrackId === null)
      problems.push(`${what}: tracks source naming none`);
    if (recording.kind === "audio" && source.videoTrackId !== null)
      problems.push(`${what}: audio with a video track`);
  }
  if (recording.customBaseUrl !== null && bounds.customBaseUrls.length === 0) {
    problems.push(
      `${what}: customBaseUrl ${recording.customBaseUrl.slice(0, 80)} accepted with no template allowed`,
    );
  }
  if (recording.encoding !== null) {
    const parsed = encodingOverridesSchema.safeParse(recording.encoding);
    if (!parsed.success)
      problems.push(`${what}: encoding ${JSON.stringify(recording.encoding)} breaks egress' rules`);
    else {
      for (const { field, message } of overridesOutOfBounds(parsed.data, bounds)) {
        problems.push(`${what}: encoding.${field} ${message}`);
      }
      if (recording.kind === "audio") {
        for (const field of Object.keys(parsed.data)) {
          if (!(AUDIO_OVERRIDES as readonly string[]).includes(field))
            problems.push(`${what}: audio with encoding.${field}`);
        }
      }
    }
  }
  return problems;
}

function acceptedTenantProblems(label: string, registry: ReturnType<typeof loadTenants>): string[] {
  const problems: string[] = [];
  for (const tenant of registry.tenants) {
    const what = `${label}: accepted tenant "${tenant.name.slice(0, 40)}"`;
    if (!TENANT_NAME.test(tenant.name)) problems.push(`${what}: its name`);
    if (tenant.keys.some((key) => key.length < 16 || !/^[\x21-\x7e]+$/.test(key)))
      problems.push(`${what}: a key`);
    const callback = tenant.callback;
    if (callback) {
      const url = URL.canParse(callback.url) ? new URL(callback.url) : undefined;
      if (
        !url ||
        !/^https?:$/.test(url.protocol) ||
        url.username ||
        url.password ||
        callback.url.includes("#")
      ) {
        problems.push(`${what}: callback url ${callback.url.slice(0, 60)}`);
      }
      const bytes = Buffer.from(callback.secret.replace(/^whsec_/, ""), "base64").length;
      if (!callback.secret.startsWith("whsec_") || bytes < 24 || bytes > 64)
        problems.push(`${what}: callback secret`);
      if (callback.events.some((event) => !CALLBACK_EVENTS.includes(event)))
        problems.push(`${what}: callback events`);
    }
    if (tenant.expireDays !== null && !(tenant.expireDays > 0 && tenant.expireDays <= 3650)) {
      problems.push(`${what}: expireDays ${tenant.expireDays}`);
    }
  }
  return problems;
}

/**
 * Loads each hostile tenants file as the API and the mailer do at start. Each must be refused
 * with a ConfigError whose lines name TENANTS_FILE and never repeat a planted key or secret,
 * or be accepted holding only what the docs allow; anything else (a crash, a hang) is a problem.
 */
export function tenantFileProblems(files: readonly TenantFile[]): {
  problems: string[];
  refused: number;
  accepted: number;
  slowestMs: number;
} {
  const dir = mkdtempSync(join(tmpdir(), "recfleet-fuzz-tenants-"));
  const problems: string[] = [];
  let refused = 0;
  let accepted = 0;
  let slowestMs = 0;
  try {
    for (const [index, file] of files.entries()) {
      const path = join(dir, `tenants-${index}.${file.extension}`);
      writeFileSync(path, file.text);
      const started = performance.now();
      for (const requireKeys of [true, false]) {
        try {
          const registry = loadTenants({ apiKeys: [], file: path, requireKeys });
          accepted += 1;
          problems.push(...acceptedTenantProblems(file.label, registry));
        } catch (error) {
          if (!(error instanceof ConfigError)) {
            problems.push(
              `${file.label}: ${(error as Error).name} ${(error as Error).message.slice(0, 120)}`,
            );
            continue;
          }
          refused += 1;
          for (const problem of error.problems) {
            if (problem.env !== "TENANTS_FILE")
              problems.push(`${file.label}: a problem names ${problem.env}`);
            if (problem.message.includes(PLANTED_KEY) || problem.message.includes(PLANTED_SECRET)) {
              problems.push(`${file.label}: a problem repeats a planted key or secret`);
            }
            if (problem.message.length > 600)
              problems.push(`${file.label}: a ${problem.message.length}-character message`);
          }
        }
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { problems, refused, accepted, slowestMs: Math.round(slowestMs) };
}
