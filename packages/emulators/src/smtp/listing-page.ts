import { escapeHtml } from "../common/html.ts";
import type { StoredMessage } from "./message-store.ts";
import type { MailAddress } from "./message-summary.ts";

function formatAddresses(addresses: readonly MailAddress[]): string {
  return addresses
    .map((entry) => (entry.name ? `${entry.name} <${entry.address}>` : entry.address))
    .join(", ");
}

function row(message: StoredMessage): string {
  const id = encodeURIComponent(message.id);
  const subject = message.subject === "" ? "(no subject)" : message.subject;
  const views = [`<a href="/messages/${id}.eml">raw</a>`];
  if (message.hasText) views.push(`<a href="/messages/${id}/text">text</a>`);
  if (message.hasHtml) views.push(`<a href="/messages/${id}/html">html</a>`);
  views.push(`<a href="/api/messages/${id}">json</a>`);
  return [
    "<tr>",
    `<td><time datetime="${escapeHtml(message.receivedAt)}">${escapeHtml(message.receivedAt)}</time></td>`,
    `<td>${escapeHtml(formatAddresses(message.from) || message.envelope.from)}</td>`,
    `<td>${escapeHtml(message.envelope.to.join(", "))}</td>`,
    `<td><a href="/messages/${id}">${escapeHtml(subject)}</a></td>`,
    `<td>${message.size}</td>`,
    `<td>${views.join(" ")}</td>`,
    "</tr>",
  ].join("");
}

/** The read-only listing, newest message first. */
export function renderListingPage(messages: readonly StoredMessage[], smtpUrl: string): string {
  const rows = [...messages].reverse().map(row).join("\n");
  const body =
    messages.length === 0
      ? "<p>No messages yet.</p>"
      : `<table>
<thead><tr><th>Received</th><th>From</th><th>To (envelope)</th><th>Subject</th><th>Bytes</th><th>Views</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SMTP emulator — ${messages.length} message(s)</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
</style>
</head>
<body>
<h1>SMTP emulator</h1>
<p>${messages.length} message(s) received on <code>${escapeHtml(smtpUrl)}</code>. JSON: <a href="/api/messages">/api/messages</a></p>
<form method="post" action="/messages/clear"><button type="submit">Clear the inbox</button></form>
${body}
</body>
</html>
`;
}

/** One message: its headers, its text, and its HTML in a sandboxed frame (scripts and network off). */
export function renderMessagePage(message: StoredMessage, text: string | null): string {
  const id = encodeURIComponent(message.id);
  const subject = message.subject === "" ? "(no subject)" : message.subject;
  const field = (name: string, value: string) => `<tr><th>${name}</th><td>${escapeHtml(value)}</td></tr>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(subject)} — SMTP emulator</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 60rem; }
th { text-align: left; padding-right: 1rem; vertical-align: top; }
pre { white-space: pre-wrap; background: #f4f4f4; padding: 1rem; }
iframe { width: 100%; height: 32rem; border: 1px solid #ddd; }
</style>
</head>
<body>
<p><a href="/">All messages</a></p>
<h1>${escapeHtml(subject)}</h1>
<table>
${field("From", formatAddresses(message.from) || message.envelope.from)}
${field("To", message.envelope.to.join(", "))}
${field("Date", message.date ?? message.receivedAt)}
${field("Message-ID", message.messageId ?? "")}
</table>
<p><a href="/messages/${id}.eml">raw .eml</a> · <a href="/api/messages/${id}">json</a></p>
${message.hasHtml ? `<h2>HTML</h2>\n<iframe sandbox title="HTML part" src="/messages/${id}/html"></iframe>` : ""}
${text !== null ? `<h2>Text</h2>\n<pre>${escapeHtml(text)}</pre>` : ""}
</body>
</html>
`;
}
