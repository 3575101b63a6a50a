import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "../load.ts";
import type { ProfilesConfig } from "../schema.ts";
import {
  BUILTIN_PROFILES,
  type EncodingProfile,
  PRESET_NAMES,
  type PresetName,
  VIDEO_CODECS,
} from "./model.ts";
import { ENCODING_FIELDS } from "./overrides.ts";

const PROFILE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const advancedInput = z.strictObject({
  description: z.string().max(200).optional(),
  width: ENCODING_FIELDS.width,
  height: ENCODING_FIELDS.height,
  framerate: ENCODING_FIELDS.framerate,
  videoBitrate: ENCODING_FIELDS.videoBitrate,
  audioBitrate: ENCODING_FIELDS.audioBitrate,
  audioFrequency: z
    .union([z.literal(44100), z.literal(48000)], { error: "must be 44100 or 48000" })
    .default(48000),
  keyFrameInterval: ENCODING_FIELDS.keyFrameInterval,
  videoCodec: z
    .enum(VIDEO_CODECS, { error: `must be one of ${VIDEO_CODECS.join(", ")}` })
    .default("H264_MAIN"),
  depth: z.union([z.literal(8), z.literal(16), z.literal(24)], { error: "must be 8, 16 or 24" }).default(24),
});

const presetInput = z.strictObject({
  description: z.string().max(200).optional(),
  preset: z.enum(PRESET_NAMES as [PresetName, ...PresetName[]], {
    error: `must be one of ${PRESET_NAMES.join(", ")}`,
  }),
});

const fileShape = z.strictObject({ profiles: z.record(z.string(), z.unknown()) });

export interface ProfileCatalog {
  readonly defaultName: string;
  /** The layout of a recording that names none (DEFAULT_LAYOUT). */
  readonly defaultLayout: ProfilesConfig["defaultLayout"];
  readonly names: readonly string[];
  get(name: string): EncodingProfile | undefined;
  list(): readonly EncodingProfile[];
}

function describeIssues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.join(".");
    return field ? `${prefix}${field} ${issue.message}` : `${prefix}${issue.message}`;
  });
}

/** Parses one operator-supplied profile; returns the problems found, phrased per field. */
export function parseProfile(
  name: string,
  input: unknown,
): { profile?: EncodingProfile; problems: string[] } {
  const prefix = `profile "${name}": `;
  if (!PROFILE_NAME.test(name)) {
    return {
      problems: [`${prefix}the name must be lowercase letters, digits and '-', at most 63 characters`],
    };
  }
  const isPreset = typeof input === "object" && input !== null && "preset" in input;
  if (isPreset) {
    const parsed = presetInput.safeParse(input);
    if (!parsed.success) return { problems: describeIssues(prefix, parsed.error) };
    return {
      profile: {
        name,
        type: "preset",
        preset: parsed.data.preset,
        description: parsed.data.description ?? `LiveKit preset ${parsed.data.preset}.`,
      },
      problems: [],
    };
  }
  const parsed = advancedInput.safeParse(input);
  if (!parsed.success) return { problems: describeIssues(prefix, parsed.error) };
  const { description, ...settings } = parsed.data;
  return {
    profile: { name, type: "advanced", ...settings, description: description ?? `Custom profile ${name}.` },
    problems: [],
  };
}

function readProfilesFile(path: string): unknown {
  const text = readFileSync(path, "utf8");
  return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
}

/**
 * The built-in profiles, plus or overridden by the operator's file, with the default checked.
 * Throws ConfigError naming PROFILES_FILE or DEFAULT_PROFILE.
 */
export function loadProfileCatalog(config: ProfilesConfig): ProfileCatalog {
  const profiles = new Map<string, EncodingProfile>(
    BUILTIN_PROFILES.map((profile) => [profile.name, profile]),
  );
  const problems: ConfigProblem[] = [];
  const fileProblem = (message: string) =>
    problems.push({ env: "PROFILES_FILE", key: "profiles.file", message });
  if (config.file !== "") {
    let content: unknown;
    try {
      content = readProfilesFile(config.file);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message.split("\n")[0];
      fileProblem(`cannot read ${config.file} (${reason})`);
    }
    if (content !== undefined) {
      const shape = fileShape.safeParse(content);
      if (!shape.success) {
        fileProblem(`${config.file} must be an object with a "profiles" map of name → settings`);
      } else {
        for (const [name, input] of Object.entries(shape.data.profiles)) {
          const result = parseProfile(name, input);
          for (const message of result.problems) fileProblem(message);
          if (result.profile) profiles.set(name, result.profile);
        }
      }
    }
  }
  if (problems.length === 0 && !profiles.has(config.defaultName)) {
    problems.push({
      env: "DEFAULT_PROFILE",
      key: "profiles.defaultName",
      message: `unknown profile "${config.defaultName}"; known profiles: ${[...profiles.keys()].join(", ")}`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const names = [...profiles.keys()];
  return {
    defaultName: config.defaultName,
    defaultLayout: config.defaultLayout,
    names,
    get: (name) => profiles.get(name),
    list: () => [...profiles.values()],
  };
}
