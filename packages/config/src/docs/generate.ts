// Writes the generated docs: `npm run docs` (or `pnpm --filter @recfleet/config docs`).
import { writeFileSync } from "node:fs";
import { generatedDocs } from "./index.ts";

for (const doc of generatedDocs()) {
  writeFileSync(doc.path, doc.content);
  process.stdout.write(`wrote ${doc.path}\n`);
}
