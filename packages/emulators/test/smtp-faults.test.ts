import { once } from "node:events";
import { connect } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { compileRecipientPattern, type SmtpEmulator, startSmtpCatcher } from "../src/smtp/index.ts";
import { sendFailure, transportFor } from "./smtp-test-helpers.ts";

const running: SmtpEmulator[] = [];

async function start(options: Parameters<typeof startSmtpCatcher>[0] = {}): Promise<SmtpEmulator> {
  const emulator = await startSmtpCatcher(options);
  running.push(emulator);
  return emulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
});

const mail = (to = "owner@example.com", subject = "hello") => ({
  from: "noreply@recfleet.test",
  to,
  subject,
  text: "body",
});

async function postFaults(emulator: SmtpEmulator, body: unknown): Promise<Response> {
  return fetch(`${emulator.httpUrl}/_admin/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("smtp catcher: authentication", () => {
  const credentials = { user: "mailer", password: "s3cret" };

  it("a wrong password is answered 535, a permanent error", async () => {
    const emulator = await start(credentials);
    const error = await sendFailure(
      transportFor({ port: emulator.smtpPort, auth: { user: "mailer", pass: "wrong" } }).sendMail(mail()),
    );
    expect(error.code).toBe("EAUTH");
    expect(error.responseCode).toBe(535);
    expect(error.permanent).toBe(true);
    expect(emulator.messages()).toEqual([]);
  });

  it("a sender that does not authenticate is refused with 530", async () => {
    const emulator = await start(credentials);
    const error = await sendFailure(transportFor({ port: emulator.smtpPort }).sendMail(mail()));
    expect(error.responseCode).toBe(530);
    expect(error.permanent).toBe(true);
    expect(emulator.messages()).toEqual([]);
  });

  it("the configured user and password are accepted and recorded on the message", async () => {
    const emulator = await start(credentials);
    await transportFor({ port: emulator.smtpPort, auth: { user: "mailer", pass: "s3cret" } }).sendMail(
      mail(),
    );
    expect(emulator.messages()).toMatchObject([{ authUser: "mailer", subject: "hello" }]);
  });

  it("without configured credentials no authentication is needed", async () => {
    const emulator = await start();
    await transportFor({ port: emulator.smtpPort }).sendMail(mail());
    expect(emulator.messages()).toMatchObject([{ authUser: null }]);
  });

  it("a user without a password is a configuration error", async () => {
    await expect(startSmtpCatcher({ user: "mailer" })).rejects.toThrow(/both a user and a password/);
  });
});

describe("smtp catcher: faults", () => {
  it("failNext(3) gives three transient 451 errors, then the message goes through", async () => {
    const emulator = await start();
    emulator.failNext(3);
    const transport = transportFor({ port: emulator.smtpPort });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const error = await sendFailure(transport.sendMail(mail("owner@example.com", `attempt ${attempt}`)));
      expect(error.code).toBe("EMESSAGE");
      expect(error.responseCode).toBe(451);
      expect(error.permanent).toBe(false);
      expect(error.response).toMatch(/^451 4\.3\.0 /);
    }
    await transport.sendMail(mail("owner@example.com", "attempt 4"));
    expect(emulator.messages().map((message) => message.subject)).toEqual(["attempt 4"]);
    expect(emulator.faults()).toMatchObject({ failNext: 0, triggered: { transientFailures: 3 } });
  });

  it("a recipient matching a reject pattern gets a permanent 550", async () => {
    const emulator = await start({ rejectRecipients: ["*@bounce.test"] });
    const transport = transportFor({ port: emulator.smtpPort });
    const error = await sendFailure(transport.sendMail(mail("Nobody@Bounce.TEST")));
    expect(error.code).toBe("EENVELOPE");
    expect(error.responseCode).toBe(550);
    expect(error.permanent).toBe(true);

    const partly = await transport.sendMail({ ...mail(), to: ["ok@example.com", "other@bounce.test"] });
    expect(partly.rejected).toEqual(["other@bounce.test"]);
    expect(emulator.messages().map((message) => message.envelope.to)).toEqual([["ok@example.com"]]);
    await emulator.clear();

    emulator.rejectRecipients("/^bad-\\d+@/");
    expect((await sendFailure(transport.sendMail(mail("bad-7@example.com")))).responseCode).toBe(550);
    await transport.sendMail(mail("nobody@bounce.test", "accepted now"));
    expect(emulator.messages().map((message) => message.subject)).toEqual(["accepted now"]);
  });

  it("refusing connections makes the client fail to connect, and it succeeds once the window is over", async () => {
    const emulator = await start();
    const transport = transportFor({ port: emulator.smtpPort });
    emulator.refuseConnectionsFor(300);
    const error = await sendFailure(transport.sendMail(mail("owner@example.com", "refused")));
    expect(error.code).toBe("ESOCKET");
    expect(error.originalCode).toBe("ECONNREFUSED");
    expect(error.responseCode).toBeUndefined();
    expect(emulator.faults().refusingConnectionsUntil).not.toBeNull();

    await vi.waitFor(() => expect(emulator.faults().refusingConnectionsUntil).toBeNull(), {
      timeout: 3000,
      interval: 50,
    });
    await transport.sendMail(mail("owner@example.com", "after the outage"));
    expect(emulator.messages().map((message) => message.subject)).toEqual(["after the outage"]);
  });

  it("refusing connections also drops a session that is already open", async () => {
    const emulator = await start();
    const socket = connect(emulator.smtpPort, "127.0.0.1");
    socket.on("error", () => {});
    const closed = once(socket, "close");
    const [greeting] = (await once(socket, "data")) as [Buffer];
    expect(greeting.toString()).toMatch(/^220 /);
    emulator.refuseConnectionsFor(200);
    await closed;
    await emulator.acceptConnections();
    await transportFor({ port: emulator.smtpPort }).sendMail(mail("owner@example.com", "after"));
    expect(emulator.messages().map((message) => message.subject)).toEqual(["after"]);
  });
});

describe("recipient patterns", () => {
  it.each([
    ["*@bounce.test", "someone@bounce.test", true],
    ["*@bounce.test", "SOMEONE@Bounce.Test", true],
    ["*@bounce.test", "someone@bounce.test.example", false],
    ["a.b@x.test", "aXb@x.test", false],
    ["a.b@x.test", "a.b@x.test", true],
    ["user?@x.test", "user1@x.test", true],
    ["user?@x.test", "user12@x.test", false],
    ["/^bounce-\\d+@/", "bounce-42@x.test", true],
    ["/^bounce-\\d+@/", "Bounce-42@x.test", false],
    ["/^bounce-\\d+@/i", "Bounce-42@x.test", true],
    ["/x/g", "x@x.test", true],
  ])("%s matching %s is %s", (pattern, address, expected) => {
    const compiled = compileRecipientPattern(pattern);
    expect(compiled.matches(address)).toBe(expected);
    expect(compiled.matches(address)).toBe(expected);
  });

  it("an invalid pattern is refused with the reason", () => {
    expect(() => compileRecipientPattern("/(unclosed/")).toThrow(/invalid recipient pattern .*unclosed/);
    expect(() => compileRecipientPattern("  ")).toThrow(/it is empty/);
  });
});

describe("smtp catcher: admin endpoint", () => {
  it("POST /_admin/faults turns the knobs that the SMTP side then applies", async () => {
    const emulator = await start();
    const response = await postFaults(emulator, { failNext: 1, rejectRecipients: ["*@bounce.test"] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      failNext: 1,
      rejectRecipients: ["*@bounce.test"],
      refusingConnectionsUntil: null,
      triggered: { transientFailures: 0, rejectedRecipients: 0 },
    });

    const transport = transportFor({ port: emulator.smtpPort });
    expect((await sendFailure(transport.sendMail(mail()))).responseCode).toBe(451);
    expect((await sendFailure(transport.sendMail(mail("x@bounce.test")))).responseCode).toBe(550);
    await transport.sendMail(mail());

    const state = await (await fetch(`${emulator.httpUrl}/_admin/faults`)).json();
    expect(state).toMatchObject({ failNext: 0, triggered: { transientFailures: 1, rejectedRecipients: 1 } });
  });

  it("refuseConnectionsMs stops the SMTP port, and DELETE /_admin/faults opens it again", async () => {
    const emulator = await start();
    const refused = await postFaults(emulator, { refuseConnectionsMs: 60_000 });
    const { refusingConnectionsUntil } = (await refused.json()) as { refusingConnectionsUntil: string };
    expect(Date.parse(refusingConnectionsUntil)).toBeGreaterThan(Date.now() + 50_000);
    const transport = transportFor({ port: emulator.smtpPort });
    expect((await sendFailure(transport.sendMail(mail()))).originalCode).toBe("ECONNREFUSED");

    const reset = await fetch(`${emulator.httpUrl}/_admin/faults`, { method: "DELETE" });
    expect(await reset.json()).toMatchObject({
      refusingConnectionsUntil: null,
      failNext: 0,
      rejectRecipients: [],
    });
    await transport.sendMail(mail());
    expect(emulator.messages()).toHaveLength(1);
  });

  it("a bad fault request is answered 400 and changes nothing", async () => {
    const emulator = await start();
    const cases: unknown[] = [
      { failNext: -1 },
      { failNext: "3" },
      { rejectRecipients: ["/(unclosed/"] },
      { rejectRecipients: [""] },
      { refuseConnectionsMs: 0 },
      { unknownKnob: true },
    ];
    for (const body of cases) {
      const response = await postFaults(emulator, { failNext: 2, ...(body as object) });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: string }).error.length).toBeGreaterThan(0);
    }
    const notJson = await fetch(`${emulator.httpUrl}/_admin/faults`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect(emulator.faults()).toMatchObject({
      failNext: 0,
      rejectRecipients: [],
      refusingConnectionsUntil: null,
    });
  });
});
