import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderStatesDoc } from "../src/docs.ts";
import { statesDocPath } from "../src/docs-generate.ts";

describe("docs/recording-states.md", () => {
  it("is current (run `npm run docs` after changing the state machine)", () => {
    expect(readFileSync(statesDocPath, "utf8")).toBe(renderStatesDoc());
  });
});
