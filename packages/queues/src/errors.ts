import type { z } from "zod";

/** A payload that does not match its job's schema; thrown by the producer before anything is added. */
export class InvalidJobPayloadError extends Error {
  readonly jobName: string;
  readonly issues: z.core.$ZodIssue[];
  constructor(jobName: string, issues: z.core.$ZodIssue[]) {
    super(`invalid payload for job "${jobName}": ${describeIssues(issues)}`);
    this.name = "InvalidJobPayloadError";
    this.jobName = jobName;
    this.issues = issues;
  }
}

export function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(payload)"}: ${issue.message}`)
    .join("; ");
}
