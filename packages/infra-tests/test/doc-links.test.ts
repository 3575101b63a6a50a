// The README and docs/ link each other by relative paths and #anchors: every one must lead
// somewhere, or the docs stop standing alone. Headings become anchors as GitHub makes them.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

/** GitHub's heading anchors: lowercased, punctuation but - and _ dropped, spaces to -, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const slug = heading[1]
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

/** Every [text](target) outside code: relative targets only. */
function linksOf(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? "")
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const files = [join(root, "README.md"), ...markdownFiles(join(root, "docs"))];

describe("links between the docs", () => {
  it.each(files.map((file) => relative(root, file)))(
    "%s: every relative link and anchor leads somewhere",
    (name) => {
      const file = join(root, name);
      const broken: string[] = [];
      for (const target of linksOf(readFileSync(file, "utf8"))) {
        const [path = "", anchor] = target.split("#");
        const destination = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
        let exists = false;
        try {
          exists = statSync(destination).isFile() || statSync(destination).isDirectory();
        } catch {
          exists = false;
        }
        if (!exists) {
          broken.push(`${target} (no such file)`);
          continue;
        }
        if (
          anchor &&
          destination.endsWith(".md") &&
          !anchorsOf(readFileSync(destination, "utf8")).has(anchor)
        ) {
          broken.push(`${target} (no such heading)`);
        }
      }
      expect(broken).toEqual([]);
    },
  );
});
