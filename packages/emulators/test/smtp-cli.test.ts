import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnTs } from "@recfleet/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sendFailure, transportFor } from "./smtp-test-helpers.ts";

const CLI = fileURLToPath(new URL("../src/smtp/cli.ts", import.meta.url));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "smtp-cli-test-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("smtp emulator CLI", () => {
  it("runs as its own process, applies its fault flags, stores mail and exits 0 on SIGTERM", async () => {
    const password = "cli-secret-4711";
    const child = spawnTs(CLI, [
      "--smtp-port",
      "0",
      "--http-port",
      "0",
      "--dir",
      dir,
      "--user",
      "mailer",
      "--password",
      password,
      "--fail-next",
      "1",
      "--reject-pattern",
      "*@bounce.test",
    ]);
    try {
      const line = await child.waitForLine(/"msg":"smtp emulator listening"/, 15_000);
      const listening = JSON.parse(line) as {
        port: number;
        smtpPort: number;
        httpPort: number;
        httpUrl: string;
      };
      expect(listening.port).toBe(listening.smtpPort);
      expect(listening.httpPort).toBeGreaterThan(0);

      const transport = transportFor({ port: listening.smtpPort, auth: { user: "mailer", pass: password } });
      const message = {
        from: "noreply@recfleet.test",
        to: "owner@example.com",
        subject: "from the cli",
        text: "x",
      };
      const first = await sendFailure(transport.sendMail(message));
      expect(first.responseCode).toBe(451);
      const bounced = await sendFailure(transport.sendMail({ ...message, to: "nobody@bounce.test" }));
      expect(bounced.responseCode).toBe(550);
      await transport.sendMail(message);

      const list = (await (await fetch(`${listening.httpUrl}/api/messages`)).json()) as {
        messages: { id: string; subject: string; authUser: string }[];
      };
      expect(list.messages).toMatchObject([{ subject: "from the cli", authUser: "mailer" }]);
      expect((await readdir(dir)).sort()).toEqual([
        `${list.messages[0]?.id}.eml`,
        `${list.messages[0]?.id}.json`,
      ]);
    } finally {
      expect(await child.stop("SIGTERM")).toBe(0);
    }
    expect(child.lines.some((line) => line.includes(password))).toBe(false);
  });

  it("a bad flag is reported with the usage and exit code 2", async () => {
    const child = spawnTs(CLI, ["--smtp-port", "70000"]);
    expect(await child.exited).toBe(2);
    expect(child.lines.join("\n")).toMatch(/--smtp-port needs a whole number from 0 to 65535/);
    expect(child.lines.join("\n")).toMatch(/Usage: smtp emulator/);
  });
});
