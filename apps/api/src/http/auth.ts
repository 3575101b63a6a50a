import { createHash, timingSafeEqual } from "node:crypto";
import type { Scope, Tenant, TenantRegistry } from "@recfleet/config";
import type { RequestHandler, Response } from "express";
import type { ApiLimits } from "./limits.ts";
import { ProblemError } from "./problem.ts";

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Constant-time membership test: both sides are hashed first (equal lengths for timingSafeEqual,
 * and the length of a key never shows), and every candidate is compared, match or not.
 */
function matchIndex(candidates: readonly Buffer[], presented: string): number {
  const digest = sha256(presented);
  let found = -1;
  for (const [index, candidate] of candidates.entries()) {
    if (timingSafeEqual(candidate, digest) && found === -1) found = index;
  }
  return found;
}

export const BEARER_CHALLENGE = 'Bearer realm="recfleet"';

/** Who is calling: set on `res.locals.caller` by bearerAuth. */
export interface Caller {
  tenant: Tenant;
  /** A short, stable, non-reversible name of the key (for logs), never the key. */
  keyId: string;
}

export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  if (!caller) throw new Error("no caller: bearerAuth must run before this handler");
  return caller;
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.tenant.scopes.includes("admin") || caller.tenant.scopes.includes(scope);
}

/** Whether the caller may see a recording: its own tenant's, or any with the admin scope. */
export function canSee(caller: Caller, recording: { tenant: string }): boolean {
  return recording.tenant === caller.tenant.name || caller.tenant.scopes.includes("admin");
}

/** 403 unless the caller's tenant has `scope` (admin has them all). */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    const caller = callerOf(res);
    if (!hasScope(caller, scope)) {
      throw new ProblemError("forbidden", {
        detail: `This needs the ${scope} scope; the keys of tenant "${caller.tenant.name}" have ${caller.tenant.scopes.join(", ")}.`,
      });
    }
    next();
  };
}

/**
 * `Authorization: Bearer <key>` against every tenant's keys. A client address that fails too
 * often is refused with 429 (the key it sends is not even looked at) until its window ends.
 */
export function bearerAuth(registry: TenantRegistry, limits: ApiLimits): RequestHandler {
  const entries = registry.tenants.flatMap((tenant) =>
    tenant.keys.map((key) => ({ tenant, hash: sha256(key) })),
  );
  const hashes = entries.map((entry) => entry.hash);
  return async (req, res, next) => {
    const address = req.ip ?? "";
    await limits.assertNotBlocked("api", address);
    const header = req.get("authorization");
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw new ProblemError("unauthorized", {
        detail: "Send an API key as 'Authorization: Bearer <key>'.",
        headers: { "WWW-Authenticate": BEARER_CHALLENGE },
      });
    }
    const index = matchIndex(hashes, match[1] ?? "");
    const entry = entries[index];
    if (!entry) {
      await limits.countFailure("api", address);
      throw new ProblemError("unauthorized", {
        detail: "The API key is not valid.",
        headers: { "WWW-Authenticate": `${BEARER_CHALLENGE}, error="invalid_token"` },
      });
    }
    const caller: Caller = { tenant: entry.tenant, keyId: keyId(entry.hash) };
    res.locals.caller = caller;
    next();
  };
}

/** A short, stable, non-reversible name of an API key. */
function keyId(hash: Buffer): string {
  return createHash("sha256").update(hash).digest("hex").slice(0, 16);
}

/** HTTP basic auth for the queue dashboard, compared in constant time, failures throttled per address. */
export function basicAuth(user: string, password: string, limits: ApiLimits): RequestHandler {
  const expected = [sha256(`${user}:${password}`)];
  const challenge = 'Basic realm="recfleet dashboard", charset="UTF-8"';
  return async (req, _res, next) => {
    const address = req.ip ?? "";
    await limits.assertNotBlocked("dashboard", address);
    const header = req.get("authorization") ?? "";
    const match = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const credentials = match ? Buffer.from(match[1] ?? "", "base64").toString("utf8") : "";
    if (matchIndex(expected, credentials) === -1) {
      // A browser's first request carries no credentials: only a wrong password is a failure.
      if (match) await limits.countFailure("dashboard", address);
      throw new ProblemError("unauthorized", {
        detail: "The queue dashboard needs the dashboard user name and password (HTTP basic auth).",
        headers: { "WWW-Authenticate": challenge },
      });
    }
    next();
  };
}
