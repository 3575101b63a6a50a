import { egressEncodingFor, IGNORED_FOR_AUDIO } from "../profiles/egress.ts";
import { BUILTIN_PROFILES, effectiveSettings, RECOMMENDED_PROFILE } from "../profiles/model.ts";
import { estimateSizeMB } from "../profiles/size.ts";
import { schema } from "../schema.ts";

const THIRTY_MINUTES = 30 * 60;

const OVERRIDE_BOUNDS = (
  ["maxWidth", "maxHeight", "maxFramerate", "maxVideoBitrate", "maxAudioBitrate"] as const
).map((key) => {
  const leaf = schema.encoding[key] as { env: string; default: number };
  const field = `${key.charAt(3).toLowerCase()}${key.slice(4)}`;
  return [field, leaf.env, String(leaf.default)] as const;
});

/** docs/encoding-profiles.md, made from the built-in profiles. */
export function renderProfilesDoc(): string {
  const rows = BUILTIN_PROFILES.map((profile) => {
    const s = effectiveSettings(profile);
    const how = profile.type === "preset" ? `preset \`${profile.preset}\`` : "advanced";
    const name =
      profile.name === RECOMMENDED_PROFILE ? `**${profile.name}** (recommended)` : `\`${profile.name}\``;
    const video = Math.round(estimateSizeMB(profile, THIRTY_MINUTES, "video"));
    const audio = Math.round(estimateSizeMB(profile, THIRTY_MINUTES, "audio"));
    return `| ${name} | ${how} | ${s.width}×${s.height} | ${s.framerate} | ${s.videoBitrate} | ${s.audioBitrate} | ${s.keyFrameInterval ?? "egress default"} | ~${video} MB | ~${audio} MB | ${profile.cpuVsDefault ?? "–"} | ${profile.description} |`;
  });
  const recommended = BUILTIN_PROFILES.find((p) => p.name === RECOMMENDED_PROFILE);
  const example = recommended ? egressEncodingFor(recommended, "video").encodingOptions : undefined;
  return [
    "# Encoding profiles",
    "",
    "<!-- Generated from packages/config/src/profiles by `npm run docs`; a test fails when it is stale. -->",
    "",
    "A profile is the set of encoding settings a recording is made with. A recording names one",
    "(`profile` in `POST /v1/recordings`), or gets the default (`DEFAULT_PROFILE`, `low-cpu` unless",
    "configured). Lowering the frame rate is the main CPU lever of LiveKit Egress (x264 stays at its",
    "`veryfast` speed preset); lowering the video bitrate is the main file-size lever. Egress encodes",
    "at an average bitrate, so the keyframe interval only trades seek granularity for a little quality;",
    "every advanced profile uses 4 s.",
    "",
    "Pinned for every advanced profile (a safe drop-in for the default preset): video codec",
    "`H264_MAIN`, audio codec AAC in MP4 (Opus in OGG audio-only files), 48000 Hz, depth 24.",
    "",
    "| profile | sent as | resolution | fps | video kbps | audio kbps | keyframe s | video, 30 min | audio-only, 30 min | egress CPU vs default | use for |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Sizes are estimates: (video kbps + audio kbps) × seconds ÷ 8 ÷ 1000 = MB; audio-only files use the",
    "audio bitrate alone. `GET /v1/profiles` returns the same numbers for the running configuration.",
    "",
    "> **Slides and small text:** below about 800 kbps of video, shared slides with small text turn",
    "> blocky. Sessions heavy on screen sharing should use `slide-heavy` or `balanced`.",
    "",
    "## Which recordings a profile applies to",
    "",
    "Every source whose egress encodes: the room (room composite), a participant, chosen tracks",
    "(track composite) and a web page, with every output they write (one encoder feeds the file,",
    "HLS, thumbnails' video and streams alike; thumbnails take their own size). Not a single track",
    "(`source.type: track`): track egress copies the track's packets as they were published, so it",
    "takes no encoding options at all, and a recording of a track refuses `profile` and `encoding`",
    '(400) and answers `"profile": null`.',
    "",
    "## What is sent to egress",
    "",
    "- `default` sends no encoding options at all, so egress records exactly as it does by default.",
    "  Egress' pipeline defaults are those of its H264_720P_30 preset: 1280×720, 30 fps, 3000 kbps",
    "  video, 128 kbps / 44100 Hz audio (livekit/egress, `pkg/config/pipeline.go`); the table uses those",
    "  numbers and the LiveKit emulator records the same. The preset cannot be sent by name:",
    "  `livekit-server-sdk` drops preset value 0. Pick `balanced` or an explicit profile when the exact",
    "  resolution matters.",
    "- A preset profile sends `preset` only.",
    "- An advanced profile sends `advanced` EncodingOptions, for example the recommended profile:",
    "",
    "```json",
    JSON.stringify(typeof example === "object" ? example.toJson() : {}, null, 2),
    "```",
    "",
    '- Audio recordings (`kind: "audio"`) are OGG files with `audioOnly: true`. From an advanced',
    "  profile only the audio bitrate and frequency are sent (with codec Opus); these settings do not",
    `  apply to audio-only recordings and are ignored: ${IGNORED_FOR_AUDIO.map((f) => `\`${f}\``).join(", ")}.`,
    "  A preset profile sends nothing for an audio recording (egress defaults).",
    "",
    "## Adding or overriding a profile",
    "",
    "Point `PROFILES_FILE` at a JSON or YAML file; its profiles are added to the built-in ones, and a",
    "profile with a built-in name replaces it. `DEFAULT_PROFILE` may name any of them.",
    "",
    "```yaml",
    "profiles:",
    "  lecture:",
    "    description: Lectures with slides",
    "    width: 1920",
    "    height: 1080",
    "    framerate: 15",
    "    videoBitrate: 1200",
    "    audioBitrate: 96",
    "    keyFrameInterval: 4",
    "    # optional: videoCodec (H264_BASELINE | H264_MAIN | H264_HIGH), audioFrequency (44100 | 48000),",
    "    # depth (8 | 16 | 24); the defaults are the pinned values above",
    "  hd:",
    "    preset: H264_1080P_30",
    "```",
    "",
    "Profiles are checked at start with egress' own rules, and a bad one stops the process (exit 78)",
    'with a line naming the profile and the field, e.g. `config: PROFILES_FILE: profile "lecture": width',
    "must be even and at least 16`. The rules: width and height even and ≥ 16; framerate 1–60;",
    "bitrates positive whole kbps; keyframe interval more than 0 and at most 20 s; depth 8, 16 or 24.",
    "",
    "## Per-recording overrides",
    "",
    "A recording may change some settings of its profile: `encoding` in `POST /v1/recordings` takes",
    "any of `width`, `height`, `framerate`, `videoBitrate`, `audioBitrate` and `keyFrameInterval`.",
    "They are checked by the same rules as profiles (above) and against the operator's bounds:",
    "",
    "| setting | bound | default |",
    "|---|---|---|",
    ...OVERRIDE_BOUNDS.map(([field, env, fallback]) => `| \`${field}\` | \`${env}\` | ${fallback} |`),
    "",
    "A value above its bound is answered `400 validation-error` naming the field; `GET /v1/profiles`",
    "publishes the bounds as `overrideBounds`. The overrides are stored on the recording and",
    "applied on top of its profile when the recorder builds the Start request: everything else",
    "comes from the profile. A preset profile with overrides is sent as explicit options, starting",
    "from the numbers its preset stands for (H.264 main, 24-bit, egress' own key-frame interval",
    "unless one is given). An audio recording takes `audioBitrate` only (sent with Opus); any other",
    "override of an audio recording is refused rather than silently ignored.",
    "",
  ].join("\n");
}
