// Every shell block in the README and docs/ says how it is checked, in its fence's info string:
//   ```sh runnable [cwd=<dir>]   run here, from the checkout (or <dir>), and must exit 0
//   ```sh sandbox [cwd=<dir>]    run against a sandbox this test starts ($API, $KEY and the
//                                LiveKit key and secret exported), must exit 0, get no 5xx and
//                                not be refused (401/403)
//   ```sh manual: <why>          not run here, and the docs say why
// `console` blocks are transcripts (what a command printed), not commands.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { scaled } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestFleet, type TestFleet } from "../src/harness.ts";
import { REPO_ROOT } from "../src/state.ts";

interface Block {
  file: string;
  line: number;
  mode: "runnable" | "sandbox" | "manual" | "unmarked";
  cwd: string;
  reason: string;
  script: string;
}

const SHELLS = new Set(["sh", "bash", "shell"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

function blocksOf(path: string): Block[] {
  const file = relative(REPO_ROOT, path);
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    // Fences may be indented (inside a list item).
    const fence = /^\s*```(\S+)\s*(.*)$/.exec(lines[i] ?? "");
    if (!fence) continue;
    const end = lines.findIndex((text, j) => j > i && /^\s*```/.test(text));
    const [, language = "", info = ""] = fence;
    if (SHELLS.has(language)) {
      const manual = /^manual:\s*(.+)$/.exec(info);
      const [mode = "", ...options] = info.split(/\s+/);
      const cwd = options.find((option) => option.startsWith("cwd="))?.slice(4) ?? ".";
      blocks.push({
        file,
        line: i + 1,
        mode: manual ? "manual" : mode === "runnable" || mode === "sandbox" ? mode : "unmarked",
        cwd: join(REPO_ROOT, cwd),
        reason: manual?.[1]?.trim() ?? "",
        script: lines.slice(i + 1, end).join("\n"),
      });
    }
    i = end;
  }
  return blocks;
}

const blocks = [join(REPO_ROOT, "README.md"), ...markdownFiles(join(REPO_ROOT, "docs"))].flatMap(blocksOf);
const where = (block: Block) => `${block.file}:${block.line}`;

function run(block: Block, env: Record<string, string> = {}) {
  return spawnSync("bash", ["-euo", "pipefail", "-c", block.script], {
    cwd: block.cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: scaled(60_000),
  });
}

describe("shell blocks in the README and docs/", () => {
  it("each says how it is checked (runnable, sandbox, or manual: with the reason)", () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.filter((block) => block.mode === "unmarked").map(where)).toEqual([]);
    expect(blocks.filter((block) => block.mode === "manual" && block.reason.length < 8).map(where)).toEqual(
      [],
    );
  });

  for (const block of blocks.filter((candidate) => candidate.mode === "runnable")) {
    it(`${where(block)} runs as written`, () => {
      const result = run(block);
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    });
  }

  describe("against a sandbox", () => {
    let fleet: TestFleet;
    beforeAll(async () => {
      fleet = await startTestFleet({ autoRoom: true });
    }, scaled(120_000));
    afterAll(async () => {
      await fleet?.stop();
    });

    for (const block of blocks.filter((candidate) => candidate.mode === "sandbox")) {
      it(`${where(block)} runs as written`, () => {
        const { info } = fleet;
        const result = run(block, {
          API: info.apiUrl,
          KEY: info.apiKey,
          LIVEKIT_API_KEY: info.livekit.apiKey,
          LIVEKIT_API_SECRET: info.livekit.apiSecret,
        });
        const output = `${result.stdout}\n${result.stderr}`;
        expect(result.status, output).toBe(0);
        // A 404 for an example id is fine; refused credentials or a server error are not.
        expect(output).not.toMatch(/"status":\s*(401|403|5\d\d)/);
      });
    }
  });
});
