// The image recipe (infra/docker) against the repository it builds and the apps it runs.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freePort } from "@recfleet/testing";
import { afterEach, describe, expect, it } from "vitest";
import { readRepoFile, repoPath } from "../scripts/repo.ts";
import { APPS, usesHealthPort } from "./support/apps.ts";
import { defaultOf } from "./support/schema.ts";

const dockerfile = readRepoFile("infra/docker/Dockerfile");
const ignoreFile = readRepoFile("infra/docker/Dockerfile.dockerignore");
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

function instructionsOf(keyword: string): string[] {
  return instructions
    .filter((line) => line.startsWith(`${keyword} `))
    .map((line) => line.slice(keyword.length + 1));
}

const ignorePatterns = ignoreFile
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

/** Docker's ignore globs as regular expressions: `**` spans directories, `*` stays within one. */
function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i += 1) {
    const rest = pattern.slice(i);
    if (rest.startsWith("**/")) {
      source += "(?:.*/)?";
      i += 2;
    } else if (rest.startsWith("**")) {
      source += ".*";
      i += 1;
    } else if (pattern[i] === "*") source += "[^/]*";
    else source += (pattern[i] ?? "").replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Whether a path of the build context is excluded: a pattern matches it or one of its directories. */
function ignored(path: string): boolean {
  const segments = path.split("/");
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  return ignorePatterns.some((pattern) => prefixes.some((prefix) => globToRegExp(pattern).test(prefix)));
}

describe("Dockerfile", () => {
  it("builds exactly the four apps, named like their packages, each with a build and dist/main.js", () => {
    const accepted = /case "\$APP" in\s+([a-z|-]+)\)/.exec(instructions.join("\n"))?.[1]?.split("|");
    expect(accepted).toEqual([...APPS]);
    for (const app of APPS) {
      const pkg = JSON.parse(readRepoFile(`apps/${app}/package.json`)) as {
        name: string;
        scripts: Record<string, string>;
      };
      expect(pkg.name).toBe(`@recfleet/${app}`);
      expect(pkg.scripts.build).toBeDefined();
      expect(pkg.scripts["start:prod"]).toBe("node dist/main.js");
    }
    expect(instructionsOf("CMD")).toEqual(['["node", "dist/main.js"]']);
  });

  it("uses Node 24 slim images, the version of .nvmrc", () => {
    expect(readRepoFile(".nvmrc").trim()).toBe("24");
    expect(instructionsOf("ARG")).toContain("NODE_VERSION=24");
    const bases = instructionsOf("FROM");
    expect(bases).toHaveLength(2);
    for (const base of bases) expect(base).toMatch(/^node:\$\{NODE_VERSION\}-[a-z]+-slim AS \w+$/);
  });

  it("installs from the lockfile with the pinned pnpm, builds with turbo and deploys production dependencies", () => {
    const runs = instructionsOf("RUN").join("\n");
    const packageJson = JSON.parse(readRepoFile("package.json")) as { packageManager: string };
    expect(packageJson.packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
    expect(runs).toContain("corepack enable && corepack install");
    expect(runs).toMatch(/pnpm install --frozen-lockfile/);
    expect(runs).toMatch(/pnpm turbo run build --filter="@recfleet\/\$\{APP\}\.\.\."/);
    expect(runs).toMatch(/pnpm --filter="@recfleet\/\$\{APP\}" --prod deploy --legacy .* \/out/);
    expect(runs).toContain("test -f /out/dist/main.js");
  });

  it("runs as the unprivileged node user under tini, stops with SIGTERM and checks /healthz", () => {
    expect(instructionsOf("USER")).toEqual(["node"]);
    expect(instructionsOf("ENTRYPOINT")).toEqual(['["/usr/bin/tini", "--"]']);
    expect(instructionsOf("STOPSIGNAL")).toEqual(["SIGTERM"]);
    expect(instructionsOf("HEALTHCHECK").join(" ")).toContain('CMD ["node", "/app/healthcheck.mjs"]');
    expect(dockerfile).toContain("COPY infra/docker/healthcheck.mjs /out/healthcheck.mjs");
    expect(readRepoFile("infra/docker/healthcheck.mjs")).toContain("/healthz");
  });

  it("exposes the default ports of the schema (PORT and HEALTH_PORT)", () => {
    const exposed = instructionsOf("EXPOSE")
      .flatMap((line) => line.split(/\s+/))
      .map(Number);
    expect(exposed.sort()).toEqual([defaultOf("PORT"), defaultOf("HEALTH_PORT")].sort());
  });

  it("carries OCI labels", () => {
    const labels = instructionsOf("LABEL").join(" ");
    for (const key of ["title", "description", "source", "version", "revision", "created"]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  it("every file the build copies exists and is not excluded by Dockerfile.dockerignore", () => {
    const copied = [
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
      "turbo.json",
      "tsconfig.base.json",
      "infra/docker/healthcheck.mjs",
      ...APPS.flatMap((app) => [
        `apps/${app}/package.json`,
        `apps/${app}/src/main.ts`,
        `apps/${app}/tsconfig.build.json`,
      ]),
      "packages/config/src/index.ts",
      "packages/queues/src/index.ts",
      "packages/runtime/src/index.ts",
      "packages/recordings/src/index.ts",
    ];
    for (const path of copied) {
      expect(existsSync(repoPath(path)), path).toBe(true);
      expect(ignored(path), path).toBe(false);
    }
  });

  it("keeps build outputs, dependencies, git and local secrets out of the build context", () => {
    for (const path of [
      "node_modules/x",
      "apps/api/node_modules/x",
      "packages/config/dist/index.js",
      ".git/HEAD",
      ".tools/node",
      ".env",
      "infra/compose/.env",
      "apps/api/.turbo/x",
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

describe("healthcheck.mjs", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function serve(status: number | "hang"): Promise<{ port: number; paths: string[] }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      if (status === "hang") return;
      res.writeHead(status).end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    server.unref();
    return { port: (server.address() as AddressInfo).port, paths };
  }

  function runCheck(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [repoPath("infra/docker/healthcheck.mjs")], {
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on("exit", (code) => resolve({ code, stderr }));
    });
  }

  it("passes when the api's /healthz on PORT answers 200", async () => {
    const api = await serve(200);
    const result = await runCheck({ RECFLEET_APP: "api", PORT: String(api.port) });
    expect(result.code).toBe(0);
    expect(api.paths).toEqual(["/healthz"]);
  });

  it("fails when /healthz answers 503", async () => {
    const api = await serve(503);
    const result = await runCheck({ RECFLEET_APP: "api", PORT: String(api.port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("answered 503");
  });

  it("asks a worker on HEALTH_PORT, not PORT", async () => {
    const health = await serve(200);
    const other = await serve(500);
    const ok = await runCheck({
      RECFLEET_APP: "recorder",
      HEALTH_PORT: String(health.port),
      PORT: String(other.port),
    });
    expect(ok.code).toBe(0);
    expect(health.paths).toEqual(["/healthz"]);
    expect(other.paths).toEqual([]);
  });

  it("fails when nothing listens", async () => {
    const port = await freePort();
    const result = await runCheck({ RECFLEET_APP: "mailer", HEALTH_PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ECONNREFUSED");
  });

  it("fails within its timeout when /healthz never answers", async () => {
    const stuck = await serve("hang");
    const started = Date.now();
    const result = await runCheck({
      RECFLEET_APP: "storage-listener",
      HEALTH_PORT: String(stuck.port),
      HEALTHCHECK_TIMEOUT_MS: "300",
    });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("defaults to the schema's ports and to HEALTH_PORT exactly for the apps that serve health there", () => {
    const script = readRepoFile("infra/docker/healthcheck.mjs");
    expect(script).toContain(`api: { env: "PORT", port: ${defaultOf("PORT")} }`);
    expect(script).toContain(`worker: { env: "HEALTH_PORT", port: ${defaultOf("HEALTH_PORT")} }`);
    expect(script).toContain('app === "api" ? DEFAULT_PORTS.api : DEFAULT_PORTS.worker');
    for (const app of APPS) expect(usesHealthPort(app), app).toBe(app !== "api");
  });
});
