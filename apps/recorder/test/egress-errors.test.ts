import { TwirpError } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { classifyEgressError } from "../src/egress-errors.ts";

const twirp = (status: number, code: string | undefined, message: string) =>
  new TwirpError("error", message, status, code);

describe("classifyEgressError", () => {
  it.each([
    [twirp(503, "unavailable", "no response from servers"), "retryable", "unavailable"],
    [twirp(503, "unavailable", "not enough CPU"), "retryable", "unavailable"],
    [twirp(408, "deadline_exceeded", "request timed out"), "retryable", "deadline_exceeded"],
    [twirp(429, "resource_exhausted", "slow down"), "retryable", "resource_exhausted"],
    [twirp(500, "internal", "boom"), "retryable", "internal"],
    [twirp(400, "invalid_argument", "width must be even"), "permanent", "invalid_argument"],
    [twirp(403, "permission_denied", "no"), "permanent", "permission_denied"],
    [twirp(401, "unauthenticated", "permissions denied"), "permanent", "unauthenticated"],
    // A bad signature is answered 401 with a plain-text body: no Twirp code.
    [twirp(401, undefined, "invalid token"), "permanent", "http_401"],
    [
      twirp(412, "failed_precondition", "egress with status EGRESS_COMPLETE cannot be stopped"),
      "already_ended",
      "failed_precondition",
    ],
    [twirp(404, "not_found", "egress not found"), "not_found", "not_found"],
    [twirp(502, undefined, "Bad Gateway"), "retryable", "http_502"],
  ])("%s → %s", (error, expectedClass, expectedCode) => {
    expect(classifyEgressError(error)).toMatchObject({ class: expectedClass, code: expectedCode });
  });

  it("treats a client-side timeout as retryable: the Start may still succeed on the server", () => {
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyEgressError(timeout)).toMatchObject({ class: "retryable", code: "timeout" });
  });

  it("treats connection failures as retryable and names the cause", () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    expect(classifyEgressError(refused)).toEqual({
      class: "retryable",
      code: "network",
      message: "fetch failed (ECONNREFUSED)",
    });
  });
});
