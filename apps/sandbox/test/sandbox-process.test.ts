import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@recfleet/runtime";
import { eventually, scaled, spawnTs } from "@recfleet/testing";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const demo = fileURLToPath(new URL("../src/demo.ts", import.meta.url));

/** Free ports for the emulators: tests never use the fixed defaults another sandbox may hold. */
async function emulatorPorts(): Promise<Record<string, string>> {
  const names = ["SANDBOX_LIVEKIT_PORT", "SANDBOX_S3_PORT", "SANDBOX_SMTP_PORT", "SANDBOX_MAIL_PORT"];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, String(await freePort())])));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm start (the sandbox process)", () => {
  it("reports every bad setting and a taken PORT at once, before it starts anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recfleet-sandbox-"));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const sandbox = spawnTs(main, [], {
        env: {
          SANDBOX_DIR: dir,
          PORT: String(port),
          NO_COLOR: "1",
          REDIS_URL: "redis//x",
          RECORDER_CONCURRENCY: "many",
          API_KEYS: "",
          ...(await emulatorPorts()),
          SANDBOX_S3_PORT: String(port),
        },
      });
      expect(await sandbox.exited).toBe(78);
      const output = sandbox.lines.join("\n");
      expect(output).toContain("sandbox: config: REDIS_URL:");
      expect(output).toContain("sandbox: config: RECORDER_CONCURRENCY:");
      expect(output).toContain(`sandbox: PORT=${port}: the port is already in use on 127.0.0.1`);
      expect(output).toContain(`sandbox: SANDBOX_S3_PORT=${port}: the port is already in use on 127.0.0.1`);
      // One line per problem, however many apps read the setting.
      expect(sandbox.lines.filter((line) => line.includes("REDIS_URL")).length).toBe(1);
      // Nothing was started: no process wrote a log.
      expect(existsSync(join(dir, "logs", "s3.log"))).toBe(false);
      expect(existsSync(join(dir, "logs", "redis.log"))).toBe(false);
    } finally {
      taken.close();
    }
  });

  it(
    "reaches the banner, serves the API with its key, refuses a second start on its folder, shows no secret in ps, and leaves no process behind on Ctrl-C",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "recfleet-sandbox-"));
      // Secrets kept from an earlier start, each starting with "-": on a command line they would
      // read as flags (a generated base64url value starts so about one time in 32).
      const secrets = {
        "livekit-secret": "-livekit-secret-0123456789abcdef",
        "s3-secret": "-s3-secret-0123456789abcdef",
        "dashboard-password": "-dashboard-pw",
      };
      for (const [name, value] of Object.entries(secrets)) writeFileSync(join(dir, name), `${value}\n`);
      const port = await freePort();
      const sandbox = spawnTs(main, [], {
        env: {
          SANDBOX_DIR: dir,
          PORT: String(port),
          NO_COLOR: "1",
          API_KEYS: "",
          ...(await emulatorPorts()),
        },
      });
      await sandbox.waitForLine(/recfleet sandbox is ready/, 90_000);
      const banner = sandbox.lines.slice(
        sandbox.lines.findIndex((line) => line.includes("recfleet sandbox is ready")),
      );
      const bannerEnd = banner.findIndex((line, i) => i > 0 && line.startsWith("━"));
      const bannerLines = banner.slice(0, bannerEnd + 1);
      const key = readFileSync(join(dir, "api-key"), "utf8").trim();
      expect(bannerLines).toContain(`  API key    ${key}`);
      expect(bannerLines).toContain(`    API=http://127.0.0.1:${port} KEY=${key}`);
      // It fits an 80-column terminal.
      expect(bannerLines.filter((line) => line.length > 80)).toEqual([]);
      const profiles = await fetch(`http://127.0.0.1:${port}/v1/profiles`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(profiles.status).toBe(200);
      const info = JSON.parse(readFileSync(join(dir, "sandbox.json"), "utf8")) as {
        apiUrl: string;
        mailUrl: string;
        livekit: { url: string; apiKey: string; apiSecret: string };
      };
      expect(info.apiUrl).toBe(`http://127.0.0.1:${port}`);
      expect(info.livekit.apiSecret).toBe(secrets["livekit-secret"]);
      expect(bannerLines).toContain(`  LiveKit    ${info.livekit.url}   API key sandbox-key`);
      expect(bannerLines.join("\n")).toMatch(/ {2}S3 {9}http:\/\/127\.0\.0\.1:\d+ {3}bucket recordings/);

      // The banner's own commands, run as printed, for a room nobody opened: the sandbox opens
      // it, records, and emails.
      const at = (text: string) => bannerLines.findIndex((line) => line.includes(text));
      const shellVars = bannerLines[at("In another shell:") + 1] ?? "";
      const startCommand = bannerLines.slice(at("Start a recording:") + 1, at("Stop it")).join("\n");
      const stopCommand = bannerLines.slice(at("Stop it") + 1, at("Stop it") + 3).join("\n");
      const shell = (command: string) =>
        spawnSync("bash", ["-c", `${shellVars}\n${command}`], { encoding: "utf8", timeout: 30_000 });
      const started = shell(startCommand);
      expect(started.status, started.stderr).toBe(0);
      const { id } = JSON.parse(started.stdout) as { id: string };
      const auth = { authorization: `Bearer ${key}` };
      await eventually(
        async () => {
          const current = (await (
            await fetch(`${info.apiUrl}/v1/recordings/${id}`, { headers: auth })
          ).json()) as {
            status: string;
          };
          return current.status === "active" ? true : undefined;
        },
        { timeoutMs: 30_000, what: "the recording to be active" },
      );
      const stopped = shell(stopCommand.replace("<id>", id));
      expect(stopped.status, stopped.stderr).toBe(0);
      expect((JSON.parse(stopped.stdout) as { stopRequested: boolean }).stopRequested).toBe(true);
      await eventually(
        async () => {
          const { messages } = (await (await fetch(`${info.mailUrl}api/messages`)).json()) as {
            messages: { to: { address: string }[] }[];
          };
          return messages.some((message) => message.to.some((to) => to.address === "you@example.com"))
            ? true
            : undefined;
        },
        { timeoutMs: 30_000, what: "the email" },
      );

      // A second start on the same folder is refused, naming the running one; nothing is touched.
      const infoBefore = readFileSync(join(dir, "sandbox.json"), "utf8");
      const second = spawnTs(main, [], {
        env: {
          SANDBOX_DIR: dir,
          PORT: String(await freePort()),
          NO_COLOR: "1",
          API_KEYS: "",
          ...(await emulatorPorts()),
        },
      });
      expect(await second.exited).toBe(1);
      expect(second.lines.join("\n")).toContain(
        `sandbox: a sandbox is already running on ${dir} (pid ${sandbox.child.pid})`,
      );
      expect(readFileSync(join(dir, "sandbox.json"), "utf8")).toBe(infoBefore);

      // The demo finds this sandbox, started with its own SANDBOX_DIR, without being told.
      const demoed = spawnTs(demo, [], { env: { SANDBOX_DIR: undefined, NO_COLOR: "1" } });
      expect(await demoed.exited, demoed.lines.slice(-20).join("\n")).toBe(0);
      expect(demoed.lines.join("\n")).toContain("demo passed");
      expect(demoed.lines.join("\n")).toMatch(/hls: \S+playlist\.m3u8 closed, \d+ segments all in storage/);
      expect(demoed.lines.join("\n")).toMatch(/thumbnails: \d+ JPEGs \(320×180\)/);

      const commandLines = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
      expect(commandLines).toContain(join(dir, "s3"));
      for (const secret of [...Object.values(secrets), key]) expect(commandLines).not.toContain(secret);

      const names = ["api", "recorder", "storage-listener", "mailer", "s3", "smtp", "livekit"];
      const logOf = (name: string) => readFileSync(join(dir, "logs", `${name}.log`), "utf8");
      const children = names.map((name) => Number(/"pid":(\d+)/.exec(logOf(name))?.[1]));
      children.push(Number(/pid=(\d+)/.exec(logOf("redis"))?.[1]));
      expect(children.every((pid) => Number.isInteger(pid) && alive(pid))).toBe(true);
      // Ctrl-C in a terminal: SIGINT to the whole foreground process group. Only the sandbox
      // acts on it, stopping each process once, newest first.
      process.kill(-(sandbox.child.pid ?? 0), "SIGINT");
      expect(await sandbox.exited).toBe(0);
      expect(sandbox.lines.at(-1)).toBe("sandbox: stopped.");
      expect(children.filter(alive)).toEqual([]);
      for (const name of names) expect(logOf(name)).toContain('"msg":"stopped"');
      for (const name of names) expect(logOf(name)).not.toContain("second signal");
      const stoppedAt = (name: string) => {
        const line = logOf(name)
          .split("\n")
          .findLast((entry) => entry.includes('"msg":"stopped"'));
        return Date.parse(String((JSON.parse(line ?? "{}") as { time?: string }).time));
      };
      const newestFirst = ["mailer", "storage-listener", "recorder", "api", "livekit", "smtp", "s3"];
      const times = newestFirst.map(stoppedAt);
      expect(times.every((time, i) => i === 0 || time >= (times[i - 1] ?? 0))).toBe(true);
      expect(existsSync(join(dir, "sandbox.lock"))).toBe(false);
      // Once it is stopped, the demo says so in a sentence, not a stack trace.
      const late = spawnTs(demo, [], { env: { SANDBOX_DIR: dir, NO_COLOR: "1" } });
      expect(await late.exited).toBe(1);
      expect(late.lines.join("\n")).toContain(`demo failed: no sandbox is running on ${dir}`);
      expect(late.lines.some((line) => /^\s+at /.test(line))).toBe(false);
    },
    scaled(120_000),
  );
});
