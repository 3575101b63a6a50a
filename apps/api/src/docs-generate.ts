// Keeps the state diagram in docs/api.md equal to the state machine: `node --conditions=@recfleet/source src/docs-generate.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import { stateDiagram } from "@recfleet/recordings";

export const apiDocPath = new URL("../../../docs/api.md", import.meta.url);
export const STATES_BEGIN = "<!-- states:begin -->";
export const STATES_END = "<!-- states:end -->";

/** What belongs between the markers. */
export function statesBlock(): string {
  return ["```mermaid", stateDiagram(), "```"].join("\n");
}

/** The text between the markers of a document, without the newlines next to them. */
export function embeddedStates(doc: string): string | undefined {
  const begin = doc.indexOf(STATES_BEGIN);
  const end = doc.indexOf(STATES_END);
  if (begin === -1 || end < begin) return undefined;
  return doc.slice(begin + STATES_BEGIN.length, end).trim();
}

export function withCurrentStates(doc: string): string {
  const begin = doc.indexOf(STATES_BEGIN);
  const end = doc.indexOf(STATES_END);
  if (begin === -1 || end < begin)
    throw new Error(`docs/api.md has no ${STATES_BEGIN} … ${STATES_END} block`);
  return `${doc.slice(0, begin + STATES_BEGIN.length)}\n${statesBlock()}\n${doc.slice(end)}`;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(apiDocPath, withCurrentStates(readFileSync(apiDocPath, "utf8")));
  process.stdout.write(`updated the state diagram in ${apiDocPath.pathname}\n`);
}
