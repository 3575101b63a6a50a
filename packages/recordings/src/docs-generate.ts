// Writes docs/recording-states.md: `npm run docs`.
import { writeFileSync } from "node:fs";
import { renderStatesDoc } from "./docs.ts";

export const statesDocPath = new URL("../../../docs/recording-states.md", import.meta.url);

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  writeFileSync(statesDocPath, renderStatesDoc());
  process.stdout.write(`wrote ${statesDocPath.pathname}\n`);
}
