import { createHash } from "node:crypto";
import type { IdempotencyClaim } from "@recfleet/recordings";
import type { Request } from "express";
import { ProblemError } from "./problem.ts";

/** How long a key answers with the recording it created. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const PRINTABLE_ASCII = /^[\x20-\x7e]{1,255}$/;

/** The Idempotency-Key header, if any; 1–255 printable ASCII characters. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.get("idempotency-key");
  if (value === undefined) return undefined;
  if (!PRINTABLE_ASCII.test(value)) {
    throw new ProblemError("validation-error", {
      detail: "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
      errors: [
        {
          location: "header",
          field: "Idempotency-Key",
          message: "must be 1 to 255 printable ASCII characters",
        },
      ],
    });
  }
  return value;
}

/** JSON with object keys sorted at every level: equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * The claim the store records for a key: scoped by the caller's API key (by its hash; the key
 * itself is never stored), so two callers can use the same key without seeing each other.
 */
export function idempotencyClaim(apiKeyId: string, key: string, body: unknown): IdempotencyClaim {
  return {
    scope: sha256Hex(`${apiKeyId}\n${key}`),
    bodyHash: sha256Hex(canonicalJson(body)),
    ttlMs: IDEMPOTENCY_TTL_MS,
  };
}
