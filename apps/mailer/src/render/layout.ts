import { html, type SafeHtml } from "./html.ts";

// One simple, single-column layout with inline styles (many clients drop <style>). Colours meet
// WCAG AA: body text #1f2937 on white is 14.7:1, the button's white on #1d4ed8 is 6.7:1 and the
// footer's #4b5563 is 7.6:1. No images, so nothing needs alt text and nothing is blocked.

const FONT = "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
export const STYLE = {
  body: "margin:0;padding:0;background-color:#f3f4f6;",
  card: `max-width:600px;margin:0 auto;padding:24px;background-color:#ffffff;color:#1f2937;font-family:${FONT};font-size:16px;line-height:1.5;`,
  h1: "margin:0 0 16px;font-size:22px;line-height:1.3;color:#111827;",
  h2: "margin:24px 0 8px;font-size:18px;line-height:1.3;color:#111827;",
  p: "margin:0 0 16px;",
  table: "border-collapse:collapse;margin:0 0 20px;",
  th: "text-align:left;vertical-align:top;padding:4px 16px 4px 0;font-weight:bold;",
  td: "vertical-align:top;padding:4px 0;",
  button:
    "display:inline-block;padding:12px 20px;border-radius:6px;background-color:#1d4ed8;color:#ffffff;font-weight:bold;text-decoration:none;",
  small: "margin:0 0 16px;font-size:14px;",
  link: "color:#1d4ed8;word-break:break-all;",
  hr: "border:0;border-top:1px solid #d1d5db;margin:24px 0 16px;",
  footer: "margin:0;font-size:13px;color:#4b5563;",
} as const;

export interface Fact {
  label: string;
  value: string;
}

/** Label/value pairs as a real table with row headers, so screen readers announce each label. */
export function factsTable(facts: Fact[]): SafeHtml {
  return html`<table style="${STYLE.table}">
<tbody>
${facts.map((fact) => html`<tr><th scope="row" style="${STYLE.th}">${fact.label}</th><td style="${STYLE.td}">${fact.value}</td></tr>\n`)}</tbody>
</table>`;
}

export function htmlDocument(options: {
  lang: string;
  title: string;
  body: SafeHtml;
  footer: string;
}): string {
  return html`<!doctype html>
<html lang="${options.lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${options.title}</title>
</head>
<body style="${STYLE.body}">
<div role="article" aria-label="${options.title}" lang="${options.lang}" style="${STYLE.card}">
${options.body}
<hr style="${STYLE.hr}">
<p style="${STYLE.footer}">${options.footer}</p>
</div>
</body>
</html>
`.value;
}
