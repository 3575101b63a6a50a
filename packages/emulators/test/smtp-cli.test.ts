import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
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
    const child = spawnTs(
      CLI,
      [
        "--smtp-port=0",
        "--http-port",
        "0",
        "--dir",
        dir,
        "--user",
        "mailer",
        "--fail-next",
        "1",
        "--reject-pattern",
        "*@bounce.test",
      ],
      { env: { SMTP_EMULATOR_PASSWORD: password } },
    );
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

  it("a bad flag is reported with a pointer to --help and exit code 2", async () => {
    const child = spawnTs(CLI, ["--smtp-port", "70000"]);
    expect(await child.exited).toBe(2);
    expect(child.lines.join("\n")).toMatch(/--smtp-port needs a whole number from 0 to 65535/);
    expect(child.lines.join("\n")).toMatch(/--help lists every flag/);
  });

  it("takes its password from a file and refuses it on the command line, naming the variable", async () => {
    const onArgv = spawnTs(CLI, ["--smtp-port=0", "--http-port=0", "--user=mailer", "--password=-secret"]);
    expect(await onArgv.exited).toBe(2);
    expect(onArgv.lines.join("\n")).toContain(
      "--password is not taken on the command line, where every user of the machine can read it; set SMTP_EMULATOR_PASSWORD",
    );
    const file = join(dir, "password");
    await writeFile(file, "-starts-with-a-dash\n");
    const child = spawnTs(CLI, ["--smtp-port=0", "--http-port=0", `--dir=${dir}`, "--user=mailer"], {
      env: { SMTP_EMULATOR_PASSWORD_FILE: file },
    });
    try {
      const line = await child.waitForLine(/"msg":"smtp emulator listening"/, 15_000);
      const { smtpPort } = JSON.parse(line) as { smtpPort: number };
      const wrong = await sendFailure(
        transportFor({ port: smtpPort, auth: { user: "mailer", pass: "-starts-with-a-dash\n" } }).sendMail({
          from: "a@recfleet.test",
          to: "b@example.com",
          subject: "x",
          text: "x",
        }),
      );
      expect(wrong.responseCode).toBe(535);
      await transportFor({ port: smtpPort, auth: { user: "mailer", pass: "-starts-with-a-dash" } }).sendMail({
        from: "a@recfleet.test",
        to: "b@example.com",
        subject: "x",
        text: "x",
      });
    } finally {
      expect(await child.stop("SIGTERM")).toBe(0);
    }
  });
});
