#!/usr/bin/env node
// Entry point behind `npm start`, `npm test` and the other root scripts.
// It must run on a machine that has nothing but Node and npm, possibly an older Node than the
// project needs, so it is plain JavaScript with no dependencies. It brings a supported Node
// (from the npm registry's `node` package), brings the pinned pnpm, installs dependencies from
// the lockfile when they are missing or stale, and then runs the requested command.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const toolsDir = join(root, ".tools");
// The Node fetched when the local one is too old: the current Node 24 LTS release.
const FALLBACK_NODE = "24.21.0";
const PNPM_VERSION = pkg.packageManager.replace(/^pnpm@/, "").replace(/\+.*$/, "");

// The sandbox runs under this Node directly, not through pnpm: a Ctrl-C then reaches only it and
// this script (which waits for it), so it stops the fleet once, in order, before the prompt returns.
const sandbox = (entry) => [
  process.execPath,
  "--conditions=@recfleet/source",
  join(root, "apps", "sandbox", "src", entry),
];

const COMMANDS = {
  // The local sandbox (apps/sandbox) runs the whole fleet on emulators; before it exists, the apps.
  start: existsSync(join(root, "apps", "sandbox"))
    ? sandbox("main.ts")
    : ["pnpm", "--parallel", "--filter", "./apps/*", "start"],
  // Integration suites start servers and child processes: on small machines (2 cores) running
  // more than three packages' tests at once only makes timeouts likely.
  test: ["pnpm", "exec", "turbo", "run", "lint", "typecheck", "test", "--concurrency=3", "--continue"],
  build: ["pnpm", "exec", "turbo", "run", "build"],
  lint: ["pnpm", "exec", "turbo", "run", "lint"],
  typecheck: ["pnpm", "exec", "turbo", "run", "typecheck"],
  demo: sandbox("demo.ts"),
  bench: ["pnpm", "--filter", "@recfleet/bench", "bench"],
  "test:chaos": ["pnpm", "--filter", "@recfleet/chaos", "chaos"],
  docs: ["pnpm", "-r", "--if-present", "run", "docs"],
  install: [],
};

function say(message) {
  process.stderr.write(`recfleet: ${message}\n`);
}

function fail(message) {
  say(message);
  process.exit(1);
}

function parseVersion(text) {
  const match = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? match.slice(1, 4).map(Number) : [0, 0, 0];
}

function atLeast(version, minimum) {
  for (let i = 0; i < 3; i += 1) {
    if (version[i] !== minimum[i]) return version[i] > minimum[i];
  }
  return true;
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
}

function capture(command, args, options = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
    ...options,
  });
  return result.status === 0 ? result.stdout.trim() : null;
}

function npmInstallTool(spec, dir) {
  mkdirSync(dir, { recursive: true });
  const result = run(
    "npm",
    [
      "install",
      "--prefix",
      dir,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      spec,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (result.status !== 0)
    fail(`could not install ${spec} from the npm registry (npm exit ${result.status}).`);
}

// 1. A supported Node. Re-executes this script under it when the running one is too old.
function ensureNode() {
  const minimum = parseVersion(pkg.engines.node);
  const current = parseVersion(process.version);
  if (atLeast(current, minimum)) return;
  const dir = join(toolsDir, `node-v${FALLBACK_NODE}`);
  const nodeBin = join(dir, "node_modules", "node", "bin", "node");
  say(
    `this Node is ${process.version}; the project needs ${pkg.engines.node}. ` +
      `Using Node v${FALLBACK_NODE} from the npm registry's "node" package (kept in .tools/).`,
  );
  if (!existsSync(nodeBin)) npmInstallTool(`node@${FALLBACK_NODE}`, dir);
  const env = { ...process.env, PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH ?? ""}` };
  const result = spawnSync(nodeBin, process.argv.slice(1), { stdio: "inherit", env });
  process.exit(result.status ?? 1);
}

// 2. The pinned pnpm on PATH: one already there, else corepack, else the npm package.
function ensurePnpm() {
  if (capture("pnpm", ["--version"]) === PNPM_VERSION) return;
  const binDir = join(toolsDir, `pnpm-${PNPM_VERSION}`, "bin");
  const shim = join(binDir, "pnpm");
  if (!existsSync(shim)) {
    const viaCorepack = capture("corepack", [`pnpm@${PNPM_VERSION}`, "--version"]) === PNPM_VERSION;
    if (viaCorepack) {
      mkdirSync(binDir, { recursive: true });
      writeFileSync(shim, `#!/bin/sh\nexec corepack pnpm@${PNPM_VERSION} "$@"\n`, { mode: 0o755 });
    } else {
      say(
        `corepack could not provide pnpm ${PNPM_VERSION} (it cannot verify the download here); installing it with npm.`,
      );
      const dir = join(toolsDir, `pnpm-${PNPM_VERSION}`);
      npmInstallTool(`pnpm@${PNPM_VERSION}`, dir);
      mkdirSync(binDir, { recursive: true });
      const entry = join(dir, "node_modules", "pnpm", "bin", "pnpm.cjs");
      writeFileSync(shim, `#!/bin/sh\nexec node "${entry}" "$@"\n`, { mode: 0o755 });
    }
  }
  process.env.PATH = `${binDir}${delimiter}${process.env.PATH ?? ""}`;
  if (capture("pnpm", ["--version"]) !== PNPM_VERSION)
    fail(`pnpm ${PNPM_VERSION} is still not runnable from ${binDir}.`);
}

// 3. Dependencies installed from the lockfile, redone only when the lockfile or Node changed.
function ensureDependencies() {
  const lockfile = join(root, "pnpm-lock.yaml");
  const stamp = join(root, "node_modules", ".recfleet-install");
  const fingerprint = createHash("sha256")
    .update(existsSync(lockfile) ? readFileSync(lockfile) : "no lockfile")
    .update(process.version)
    .digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) return;
  say("installing dependencies from pnpm-lock.yaml");
  const args = ["install", existsSync(lockfile) ? "--frozen-lockfile" : "--no-frozen-lockfile"];
  const result = run("pnpm", args);
  if (result.status !== 0) fail(`pnpm install failed (exit ${result.status}).`);
  writeFileSync(stamp, fingerprint);
}

const DESCRIPTIONS = {
  start: "run the whole fleet locally on emulators (npm start; -- --help for its options)",
  test: "lint, typecheck and every test (npm test)",
  build: "compile every package",
  lint: "biome over every package",
  typecheck: "tsc over every package",
  demo: "drive a running sandbox through three recordings (npm run demo)",
  bench: "the benchmarks (npm run bench)",
  "test:chaos": "the long fault-injection profile (npm run test:chaos)",
  docs: "regenerate the generated docs",
  install: "only bring Node, pnpm and the dependencies",
};

const USAGE = `Usage: node scripts/fleet.mjs <command> [arguments …]

Brings a supported Node and the pinned pnpm (into .tools/ when the machine lacks them), installs
dependencies from pnpm-lock.yaml when they changed, then runs the command:

${Object.entries(DESCRIPTIONS)
  .map(([name, text]) => `  ${name.padEnd(11)} ${text}`)
  .join("\n")}
  pnpm …      pnpm itself, with the project's tools on PATH

Without a command: test.`;

function main() {
  const [name = "test", ...rest] = process.argv.slice(2);
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const command = name === "pnpm" ? ["pnpm"] : COMMANDS[name];
  if (!command) {
    say(`unknown command "${name}"\n\n${USAGE}`);
    process.exit(2);
  }
  ensureNode();
  ensurePnpm();
  ensureDependencies();
  if (command.length === 0) return;
  // A terminal's Ctrl-C reaches the child already (same process group); a signal sent to this
  // script alone (kill, a service manager) is passed on. The child ignores a repeat.
  const child = spawn(command[0], [...command.slice(1), ...rest], { stdio: "inherit", cwd: root });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
