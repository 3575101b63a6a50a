import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedDocs } from "../src/docs/index.ts";

describe("generated docs", () => {
  it.each(generatedDocs())(
    "$path is current (run `npm run docs` after changing the schema or profiles)",
    (doc) => {
      expect(readFileSync(doc.path, "utf8")).toBe(doc.content);
    },
  );
});
