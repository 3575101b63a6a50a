import { freePort } from "@recfleet/testing";
import { describe, expect, it } from "vitest";
import { classifySmtpError } from "../src/smtp-errors.ts";
import { createMailTransport } from "../src/transport.ts";
import { smtpConfigFor } from "./support.ts";

// Shapes of nodemailer 10's errors (see the SMTP emulator's fault table in docs/emulators/smtp.md).
const timeout = Object.assign(new Error("Message sending aborted"), {
  code: "EABORT",
  cause: new DOMException("The operation timed out.", "TimeoutError"),
});

describe("classifySmtpError", () => {
  it.each([
    [
      "451 at the end of DATA",
      { code: "EMESSAGE", response: "451 4.3.0 Try again later", responseCode: 451, permanent: false },
      { class: "transient", summary: "451 4.3.0 Try again later", responseCode: 451 },
    ],
    [
      "550 unknown recipient",
      {
        code: "EENVELOPE",
        response: "550 5.1.1 <x@bounce.test>: Recipient address rejected: User unknown",
        responseCode: 550,
        permanent: true,
      },
      {
        class: "permanent",
        summary: "550 5.1.1 <x@bounce.test>: Recipient address rejected: User unknown",
        responseCode: 550,
      },
    ],
    [
      "535 bad credentials",
      {
        code: "EAUTH",
        response: "535 5.7.8 Authentication credentials invalid",
        responseCode: 535,
        permanent: true,
      },
      { class: "permanent", summary: "535 5.7.8 Authentication credentials invalid", responseCode: 535 },
    ],
    [
      "503 bad sequence (nodemailer: not permanent)",
      {
        code: "EPROTOCOL",
        response: "503 5.5.1 Error: nested MAIL command",
        responseCode: 503,
        permanent: false,
      },
      { class: "transient", summary: "503 5.5.1 Error: nested MAIL command", responseCode: 503 },
    ],
    [
      "421 service closing",
      { code: "ECONNECTION", response: "421 4.3.2 Shutting down", responseCode: 421, permanent: false },
      { class: "transient", summary: "421 4.3.2 Shutting down", responseCode: 421 },
    ],
    [
      "connection refused",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:2525"), {
        code: "ESOCKET",
        originalCode: "ECONNREFUSED",
      }),
      { class: "transient", summary: "ESOCKET (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:2525" },
    ],
    [
      "greeting timeout",
      Object.assign(new Error("Greeting never received"), { code: "ETIMEDOUT" }),
      { class: "transient", summary: "ETIMEDOUT: Greeting never received" },
    ],
    [
      "missing credentials (no reply: a configuration error)",
      Object.assign(new Error('Missing credentials for "PLAIN"'), { code: "EAUTH" }),
      { class: "permanent", summary: 'EAUTH: Missing credentials for "PLAIN"' },
    ],
    [
      "no valid recipient",
      Object.assign(new Error("No recipients defined"), { code: "EENVELOPE" }),
      { class: "permanent", summary: "EENVELOPE: No recipients defined" },
    ],
    [
      "a send that timed out",
      timeout,
      { class: "transient", summary: "no answer from the SMTP server in time" },
    ],
    [
      "a send aborted at shutdown",
      Object.assign(new Error("Message sending aborted"), { code: "EABORT", cause: new Error("shutdown") }),
      { class: "transient", summary: "sending was interrupted" },
    ],
    ["something that is not an error", "boom", { class: "transient", summary: "Error: boom" }],
  ])("%s", (_name, error, expected) => {
    expect(classifySmtpError(error)).toEqual(expected);
  });

  it("a refused connection through the real pool is transient", async () => {
    const transport = createMailTransport(smtpConfigFor(await freePort()));
    try {
      const error = await transport
        .send({
          to: "a@example.com",
          subject: "s",
          text: "t",
          html: "<p>t</p>",
          messageId: "<a@b>",
          lang: "en",
        })
        .then(
          () => undefined,
          (failure: unknown) => failure,
        );
      expect(classifySmtpError(error)).toMatchObject({ class: "transient" });
    } finally {
      transport.close();
    }
  });
});
