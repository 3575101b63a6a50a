import { FAILURE_CODES } from "./model.ts";
import { IN_PROGRESS, STATUS_MEANING, STATUSES, TRANSITIONS } from "./states.ts";

/** The state machine as a mermaid diagram, made from the transition table. */
export function stateDiagram(): string {
  const lines = ["stateDiagram-v2", "  [*] --> queued"];
  for (const from of STATUSES) {
    for (const to of TRANSITIONS[from]) lines.push(`  ${from} --> ${to}`);
    if (TRANSITIONS[from].length === 0) lines.push(`  ${from} --> [*]`);
  }
  return lines.join("\n");
}

/** docs/recording-states.md */
export function renderStatesDoc(): string {
  return [
    "# Recording states",
    "",
    "<!-- Generated from packages/recordings/src/states.ts by `npm run docs`; a test fails when it is stale. -->",
    "",
    "Every recording moves through this state machine. Each move is a compare-and-set in Redis, so",
    "two workers, a retried job or a re-delivered webhook can never move a recording backwards or",
    "twice; a move the table does not allow is a no-op that the caller sees. Every move is written",
    "on the recording's `timeline` with a reason.",
    "",
    "```mermaid",
    stateDiagram(),
    "```",
    "",
    "| status | meaning | can move to |",
    "|---|---|---|",
    ...STATUSES.map(
      (status) =>
        `| \`${status}\` | ${STATUS_MEANING[status]} | ${TRANSITIONS[status].map((to) => `\`${to}\``).join(", ") || "— (final)"} |`,
    ),
    "",
    `A room holds at most one recording of each kind (video, audio) in ${IN_PROGRESS.map((s) => `\`${s}\``).join(", ")};`,
    "a new one for the same room and kind is refused with 409 until then. Recordings in a final",
    "state expire after `RECORDINGS_RETENTION_DAYS`.",
    "",
    `Failure codes (\`error.code\` of a \`failed\` recording): ${FAILURE_CODES.map((c) => `\`${c}\``).join(", ")}.`,
    "",
  ].join("\n");
}
