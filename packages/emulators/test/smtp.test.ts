import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@recfleet/runtime";
import PostalMime from "postal-mime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SmtpEmulator, startSmtpCatcher } from "../src/smtp/index.ts";
import { transportFor } from "./smtp-test-helpers.ts";

let dir: string;
const running: SmtpEmulator[] = [];

async function start(options: Parameters<typeof startSmtpCatcher>[0] = {}): Promise<SmtpEmulator> {
  const emulator = await startSmtpCatcher({ dir, ...options });
  running.push(emulator);
  return emulator;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "smtp-test-"));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("smtp catcher: storing mail", () => {
  it("a message sent with nodemailer lands as an .eml and an index entry that parse back to its parts", async () => {
    const emulator = await start();
    const info = await transportFor({ port: emulator.smtpPort }).sendMail({
      from: '"Recfleet" <noreply@recfleet.test>',
      to: "Owner <owner@example.com>",
      subject: "Your recording is ready",
      text: "Download it here: https://example.com/r/1",
      html: "<p>Download it <a href='https://example.com/r/1'>here</a></p>",
    });

    const [message] = emulator.messages();
    expect(emulator.messages()).toHaveLength(1);
    expect(message).toMatchObject({
      envelope: { from: "noreply@recfleet.test", to: ["owner@example.com"] },
      subject: "Your recording is ready",
      from: [{ name: "Recfleet", address: "noreply@recfleet.test" }],
      to: [{ name: "Owner", address: "owner@example.com" }],
      messageId: info.messageId,
      hasText: true,
      hasHtml: true,
      file: `${message?.id}.eml`,
    });

    const files = await readdir(dir);
    expect(files.sort()).toEqual([`${message?.id}.eml`, `${message?.id}.json`]);
    const raw = await readFile(join(dir, `${message?.id}.eml`));
    expect(message?.size).toBe(raw.length);
    const index = JSON.parse(await readFile(join(dir, `${message?.id}.json`), "utf8"));
    expect(index).toEqual(message);

    const parsed = await PostalMime.parse(raw);
    expect(parsed.subject).toBe("Your recording is ready");
    expect(parsed.text?.trim()).toBe("Download it here: https://example.com/r/1");
    expect(parsed.html).toContain("<a href='https://example.com/r/1'>here</a>");
  });

  it("stores the bytes exactly as received, dot-stuffed lines included", async () => {
    const emulator = await start();
    const raw = [
      "From: a@example.com",
      "To: b@example.com",
      "Subject: dots",
      "Message-ID: <dots-1@example.com>",
      "",
      ".a line that starts with a dot",
      "..two dots",
      "last line",
      "",
    ].join("\r\n");
    await transportFor({ port: emulator.smtpPort }).sendMail({
      envelope: { from: "a@example.com", to: ["b@example.com"] },
      raw,
    });
    const [message] = emulator.messages();
    expect(message?.messageId).toBe("<dots-1@example.com>");
    expect((await emulator.rawMessage(message?.id ?? ""))?.toString("utf8")).toBe(raw);
  });

  it("keeps every message when several arrive at once", async () => {
    const emulator = await start();
    const transport = transportFor({ port: emulator.smtpPort });
    const subjects = Array.from({ length: 6 }, (_, i) => `parallel ${i}`);
    await Promise.all(
      subjects.map((subject) =>
        transport.sendMail({ from: "a@example.com", to: "b@example.com", subject, text: subject }),
      ),
    );
    const messages = emulator.messages();
    expect(messages.map((message) => message.subject).sort()).toEqual(subjects);
    expect(new Set(messages.map((message) => message.id)).size).toBe(subjects.length);
    for (const message of messages) {
      const parsed = await PostalMime.parse((await emulator.rawMessage(message.id)) ?? "");
      expect(parsed.text?.trim()).toBe(message.subject);
    }
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("the store survives a restart of the catcher", async () => {
    const first = await start();
    const transport = transportFor({ port: first.smtpPort });
    await transport.sendMail({ from: "a@example.com", to: "b@example.com", subject: "one", text: "1" });
    await transport.sendMail({ from: "a@example.com", to: "c@example.com", subject: "two", text: "2" });
    const before = first.messages();
    const rawBefore = await first.rawMessage(before[1]?.id ?? "");
    await first.close();

    const second = await start();
    expect(second.messages()).toEqual(before);
    expect(await second.rawMessage(before[1]?.id ?? "")).toEqual(rawBefore);
    await transportFor({ port: second.smtpPort }).sendMail({
      from: "a@example.com",
      to: "d@example.com",
      subject: "three",
      text: "3",
    });
    expect(second.messages().map((message) => message.subject)).toEqual(["one", "two", "three"]);
  });

  it("a restart skips a damaged index entry, ignores an unacknowledged .eml and removes temporary files", async () => {
    const first = await start();
    await transportFor({ port: first.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: "kept",
      text: "x",
    });
    await first.close();
    await writeFile(join(dir, "0000000aa-0001-abcdef.json"), "{ not json");
    await writeFile(join(dir, "0000000aa-0001-abcdef.eml"), "Subject: damaged\r\n\r\nx\r\n");
    await writeFile(join(dir, "0000000bb-0002-abcdef.eml"), "Subject: never acknowledged\r\n\r\nx\r\n");
    await writeFile(join(dir, ".half-written.tmp"), "partial");

    const warnings: { msg: string; file: string }[] = [];
    const destination = { write: (line: string) => void warnings.push(JSON.parse(line)) };
    const second = await start({ logger: createLogger("smtp-test", { level: "warn", destination }) });
    expect(second.messages().map((message) => message.subject)).toEqual(["kept"]);
    expect(await readdir(dir)).not.toContain(".half-written.tmp");
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: "skipping an unreadable index entry",
          file: "0000000aa-0001-abcdef.json",
        }),
        expect.objectContaining({
          msg: "ignoring a raw message without an index entry",
          file: "0000000bb-0002-abcdef.eml",
        }),
      ]),
    );
    await expect(second.waitForMessages(0, 100)).rejects.toThrow(RangeError);
  });

  it("a port already in use is reported and leaves nothing listening", async () => {
    const first = await start();
    await expect(startSmtpCatcher({ dir, httpPort: first.httpPort })).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    await expect(startSmtpCatcher({ dir, smtpPort: first.smtpPort })).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
  });

  it("clear() empties the store and its directory", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: "gone soon",
      text: "x",
    });
    expect(await emulator.clear()).toBe(1);
    expect(emulator.messages()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("waitForMessages resolves when enough messages arrive and rejects with a timeout otherwise", async () => {
    const emulator = await start();
    const waiting = emulator.waitForMessages(2, 5000, { to: "late@example.com" });
    const transport = transportFor({ port: emulator.smtpPort });
    await transport.sendMail({
      from: "a@example.com",
      to: "other@example.com",
      subject: "not it",
      text: "x",
    });
    await transport.sendMail({ from: "a@example.com", to: "late@example.com", subject: "first", text: "x" });
    await transport.sendMail({ from: "a@example.com", to: "Late@Example.com", subject: "second", text: "x" });
    expect((await waiting).map((message) => message.subject)).toEqual(["first", "second"]);
    await expect(emulator.waitForMessages(5, 50)).rejects.toThrow(/waiting for 5 message\(s\) \(3 arrived\)/);
  });

  it("a message over the size limit is refused with 552 and not stored", async () => {
    const emulator = await start({ maxMessageBytes: 2048 });
    const error = await transportFor({ port: emulator.smtpPort })
      .sendMail({ from: "a@example.com", to: "b@example.com", subject: "big", text: "x".repeat(10_000) })
      .then(
        () => undefined,
        (failure: Error & { responseCode?: number; permanent?: boolean }) => failure,
      );
    expect(error?.responseCode).toBe(552);
    expect(error?.permanent).toBe(true);
    expect(emulator.messages()).toEqual([]);
  });
});

describe("smtp catcher: HTTP listing and JSON API", () => {
  it("the HTML listing escapes a hostile subject", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: `<script>alert(1)</script> & "quotes"`,
      text: "x",
    });
    const response = await fetch(`${emulator.httpUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const page = await response.text();
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;");
    expect(page).not.toContain("<script>");
    const [message] = emulator.messages();
    expect(page).toContain(`href="/messages/${message?.id}.eml"`);
    expect(page).toContain(`<a href="/messages/${message?.id}">&lt;script&gt;`);
  });

  it("shows one message as a page (text, and HTML in a sandboxed frame), and clears the inbox from the listing", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "Recordings <a@example.com>",
      to: "b@example.com",
      subject: "Your recording is ready",
      text: "Download it: http://127.0.0.1/x <unsafe>",
      html: "<p>Download it</p>",
    });
    const [message] = emulator.messages();
    const page = await fetch(`${emulator.httpUrl}/messages/${message?.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-src 'self'");
    const html = await page.text();
    expect(html).toContain("<h1>Your recording is ready</h1>");
    expect(html).toContain("Recordings &lt;a@example.com&gt;");
    expect(html).toContain("Download it: http://127.0.0.1/x &lt;unsafe&gt;");
    expect(html).toContain(`<iframe sandbox title="HTML part" src="/messages/${message?.id}/html"></iframe>`);
    expect((await fetch(`${emulator.httpUrl}/messages/zzzzzzzzz-0000-000000`)).status).toBe(404);

    // A form posted from another site is refused; the page's own button clears the inbox.
    const foreign = await fetch(`${emulator.httpUrl}/messages/clear`, {
      method: "POST",
      headers: { origin: "https://evil.example" },
      redirect: "manual",
    });
    expect(foreign.status).toBe(403);
    expect(emulator.messages()).toHaveLength(1);
    const own = await fetch(`${emulator.httpUrl}/messages/clear`, {
      method: "POST",
      headers: { origin: emulator.httpUrl.replace(/\/$/, "") },
      redirect: "manual",
    });
    expect(own.status).toBe(303);
    expect(own.headers.get("location")).toBe("/");
    expect(emulator.messages()).toHaveLength(0);
  });

  it("serves the list, one message, its raw bytes and its text and html parts", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: "views",
      text: "plain body",
      html: "<b>html body</b><script>alert(1)</script>",
    });
    const [message] = emulator.messages();
    const id = message?.id ?? "";

    const list = (await (await fetch(`${emulator.httpUrl}/api/messages`)).json()) as { count: number };
    expect(list).toEqual({ count: 1, timedOut: false, messages: [message] });

    const detail = (await (await fetch(`${emulator.httpUrl}/api/messages/${id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(detail).toMatchObject({ id, subject: "views" });
    expect(String(detail.text).trim()).toBe("plain body");
    expect(String(detail.html).trim()).toBe("<b>html body</b><script>alert(1)</script>");

    const raw = await fetch(`${emulator.httpUrl}/messages/${id}.eml`);
    expect(raw.headers.get("content-type")).toBe("message/rfc822");
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(await emulator.rawMessage(id));

    const text = await fetch(`${emulator.httpUrl}/messages/${id}/text`);
    expect((await text.text()).trim()).toBe("plain body");
    const html = await fetch(`${emulator.httpUrl}/messages/${id}/html`);
    expect(html.headers.get("content-security-policy")).toMatch(/^sandbox;/);
    expect((await html.text()).trim()).toBe("<b>html body</b><script>alert(1)</script>");

    expect((await fetch(`${emulator.httpUrl}/api/messages/zzzzzzzzz-0000-000000`)).status).toBe(404);
    expect((await fetch(`${emulator.httpUrl}/messages/..%2F..%2Fetc%2Fpasswd.eml`)).status).toBe(404);
    expect((await fetch(`${emulator.httpUrl}/api/messages?since=yesterday`)).status).toBe(400);
    expect((await fetch(`${emulator.httpUrl}/api/messages`, { method: "PUT" })).status).toBe(405);
  });

  it("GET /api/messages?min= waits for mail, and says when it timed out", async () => {
    const emulator = await start();
    const since = new Date().toISOString();
    const waiting = fetch(
      `${emulator.httpUrl}/api/messages?min=1&waitMs=5000&to=b@example.com&since=${since}`,
    );
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: "awaited",
      text: "x",
    });
    const body = (await (await waiting).json()) as {
      count: number;
      timedOut: boolean;
      messages: { id: string }[];
    };
    expect(body).toMatchObject({ count: 1, timedOut: false, messages: [{ subject: "awaited" }] });

    const after = body.messages[0]?.id;
    const none = await (
      await fetch(`${emulator.httpUrl}/api/messages?min=1&waitMs=50&since=${after}`)
    ).json();
    expect(none).toEqual({ count: 0, timedOut: true, messages: [] });
  });

  it("DELETE /api/messages clears the store", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail({
      from: "a@example.com",
      to: "b@example.com",
      subject: "x",
      text: "x",
    });
    const response = await fetch(`${emulator.httpUrl}/api/messages`, { method: "DELETE" });
    expect(await response.json()).toEqual({ deleted: 1 });
    expect(emulator.messages()).toEqual([]);
  });
});
