import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import { BodyTooLargeError, readBody } from "./http.ts";

/** An admin request that cannot be served: answered with `status` and the message. */
export class AdminRequestError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "AdminRequestError";
    this.status = status;
  }
}

/** The JSON body of an admin request ({} when empty); 413 and 400 as AdminRequestError. */
export async function readJsonBody(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let raw: Buffer;
  try {
    raw = await readBody(req, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new AdminRequestError(413, error.message);
    throw error;
  }
  const text = raw.toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AdminRequestError(400, "the body is not valid JSON");
  }
}

/** A body validated against its schema; 400 as AdminRequestError naming every bad field. */
export function parseAdminBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    );
    throw new AdminRequestError(400, `invalid body: ${problems.join("; ")}`);
  }
  return result.data;
}
