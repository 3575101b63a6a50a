import { fileURLToPath } from "node:url";
import { renderConfigurationDoc } from "./configuration.ts";
import { renderProfilesDoc } from "./profiles.ts";

const docsDir = fileURLToPath(new URL("../../../../docs/", import.meta.url));

/** The docs made from this package's code, with where they live in the repository. */
export function generatedDocs(): { path: string; content: string }[] {
  return [
    { path: `${docsDir}configuration.md`, content: renderConfigurationDoc() },
    { path: `${docsDir}encoding-profiles.md`, content: renderProfilesDoc() },
  ];
}
