import { fileURLToPath } from "node:url";
import { FAILURE_CODES } from "@recfleet/recordings";
import { type EmailedFailure, type RenderedEmail, WORDINGS } from "../render/index.ts";
import { renderExampleEmails } from "./examples.ts";

export const notificationsDocPath = fileURLToPath(
  new URL("../../../../docs/notifications.md", import.meta.url),
);

// The doc is written by hand; only the regions between these markers are generated.
const REGION = /<!-- BEGIN GENERATED: ([\w-]+) -->\n[\s\S]*?<!-- END GENERATED: \1 -->/g;

function fence(language: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((match) => match[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${language}\n${body.replace(/\n$/, "")}\n${ticks}`;
}

function emailExample(email: RenderedEmail, withHtml: boolean): string {
  const parts = [`Subject: **${email.subject}**`, "", "Plain-text part:", "", fence("text", email.text)];
  if (withHtml) {
    parts.push("", "<details><summary>HTML part</summary>", "", fence("html", email.html), "", "</details>");
  }
  return parts.join("\n");
}

function reasonsTable(): string {
  const emailed = FAILURE_CODES.filter((code): code is EmailedFailure => code !== "notification_failed");
  return [
    "| code | what happened (en) | what you can do (en) |",
    "|---|---|---|",
    ...emailed.map((code) => {
      const reason = WORDINGS.en.failed.reasons[code];
      return `| \`${code}\` | ${reason.happened} | ${reason.todo} |`;
    }),
    "| `notification_failed` | never emailed: it means the email itself could not be delivered | — |",
  ].join("\n");
}

async function regions(): Promise<Record<string, string>> {
  const emails = await renderExampleEmails();
  return {
    "saved-en": emailExample(emails.savedEn, true),
    "saved-fr": emailExample(emails.savedFr, false),
    "failed-en": emailExample(emails.failedEn, true),
    "ended-en": emailExample(emails.endedEn, false),
    "failure-reasons": reasonsTable(),
  };
}

/** The doc with every generated region rendered again from the templates. */
export async function renderNotificationsDoc(current: string): Promise<string> {
  const content = await regions();
  const seen = new Set<string>();
  const next = current.replace(REGION, (_whole, name: string) => {
    const body = content[name];
    if (body === undefined) throw new Error(`docs/notifications.md: unknown generated region "${name}"`);
    seen.add(name);
    return `<!-- BEGIN GENERATED: ${name} -->\n${body}\n<!-- END GENERATED: ${name} -->`;
  });
  const missing = Object.keys(content).filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`docs/notifications.md lacks the regions ${missing.join(", ")}`);
  return next;
}
