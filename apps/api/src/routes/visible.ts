import { type Recording, recordingIdSchema } from "@recfleet/recordings";
import type { Response } from "express";
import { callerOf, canSee } from "../http/auth.ts";
import { ProblemError } from "../http/problem.ts";
import type { RouteContext } from "./context.ts";

export function notFound(id: string): ProblemError {
  return new ProblemError("not-found", { detail: `There is no recording with id ${id}.` });
}

/**
 * Finds a recording by a path id. A malformed id, an unknown one and another tenant's are all
 * the same 404: a tenant cannot even learn that another's recording exists.
 */
export async function loadVisible(ctx: RouteContext, res: Response, id: string): Promise<Recording> {
  if (!recordingIdSchema.safeParse(id).success) throw notFound(id);
  const recording = await ctx.work(ctx.store.get(id), "reading the recording");
  if (!recording || !canSee(callerOf(res), recording)) throw notFound(id);
  return recording;
}
