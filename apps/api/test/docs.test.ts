import { readFileSync } from "node:fs";
import { stateDiagram } from "@recfleet/recordings";
import { describe, expect, it } from "vitest";
import { apiDocPath, embeddedStates, statesBlock } from "../src/docs-generate.ts";
import { PROBLEM_TYPES } from "../src/http/problem.ts";

const doc = readFileSync(apiDocPath, "utf8");

describe("docs/api.md", () => {
  it("embeds the current state machine (run `node --conditions=@recfleet/source src/docs-generate.ts` in apps/api)", () => {
    expect(statesBlock()).toContain(stateDiagram());
    expect(embeddedStates(doc)).toBe(statesBlock());
  });

  it("documents every problem type", () => {
    for (const [type, { status }] of Object.entries(PROBLEM_TYPES)) {
      expect(doc).toContain(`| \`${type}\` | ${status} |`);
    }
  });
});
