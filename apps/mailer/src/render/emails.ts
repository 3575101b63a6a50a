import type { Recording } from "@recfleet/recordings";
import type { ArtifactLink, DownloadLink } from "../links.ts";
import { formatDateTime, formatDuration, formatSize } from "./format.ts";
import { html, safeHref } from "./html.ts";
import { type Fact, factsTable, htmlDocument, STYLE } from "./layout.ts";
import { resolveLocale } from "./locale.ts";
import type { Language } from "./locales/index.ts";
import type { EmailedFailure, Wording } from "./wording.ts";

export interface RenderOptions {
  /** MAILER_LOCALE: the language when the recording does not ask for one we have. */
  defaultLanguage: Language;
  /** MAILER_TIME_ZONE (IANA). */
  timeZone: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** The language the email is written in (Content-Language). */
  lang: string;
}

function textFacts(wording: Wording, facts: Fact[]): string {
  return facts.map((fact) => `${fact.label}${wording.colon}${fact.value}`).join("\n");
}

function textDocument(wording: Wording, heading: string, sections: string[]): string {
  return `${[heading, ...sections].join("\n\n")}\n\n-- \n${wording.footer}\n`;
}

/** Longest room name an email shows; the rest is cut with an ellipsis (the reference names it). */
export const MAX_DISPLAYED_ROOM = 80;

/**
 * A room name as emails show it. It is the API consumer's text in our sender's name: format
 * characters (bidi overrides that reorder what the reader sees, zero-width characters) are
 * dropped, runs of whitespace made one space, and a long name cut.
 */
export function displayedRoom(room: string): string {
  const plain = room
    .replace(/\p{Cf}/gu, "")
    .replace(/\s+/gu, " ")
    .trim();
  const chars = [...plain];
  const shown =
    chars.length > MAX_DISPLAYED_ROOM ? `${chars.slice(0, MAX_DISPLAYED_ROOM - 1).join("")}…` : plain;
  return shown === "" ? "?" : shown;
}

function durationOf(recording: Recording): number | undefined {
  if (!recording.startedAt || !recording.endedAt) return undefined;
  const ms = Date.parse(recording.endedAt) - Date.parse(recording.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Who a participant recording recorded (the identity, cleaned like a room name). */
function participantFact(recording: Recording, wording: Wording): Fact[] {
  const { source } = recording;
  return source.type === "participant"
    ? [{ label: wording.labels.participant, value: displayedRoom(source.identity) }]
    : [];
}

/** The "recording is ready" email: where, when, how long, how big, the link and until when it works. */
export function renderSavedEmail(
  recording: Recording,
  link: DownloadLink,
  options: RenderOptions,
  others: readonly ArtifactLink[] = [],
): RenderedEmail {
  const { wording, intlLocale } = resolveLocale(recording.notify?.locale, options.defaultLanguage);
  const words = wording.saved;
  const room = displayedRoom(recording.room);
  const date = (iso: string) => formatDateTime(new Date(iso), intlLocale, options.timeZone);
  const duration = durationOf(recording);
  const facts: Fact[] = [
    { label: wording.labels.room, value: room },
    ...participantFact(recording, wording),
    { label: wording.labels.recordedAt, value: date(recording.startedAt ?? recording.createdAt) },
    ...(duration !== undefined
      ? [{ label: wording.labels.duration, value: formatDuration(duration, intlLocale) }]
      : []),
    ...(recording.file?.size != null
      ? [{ label: wording.labels.size, value: formatSize(recording.file.size, intlLocale) }]
      : []),
  ];
  const reference = { label: wording.labels.reference, value: recording.id };
  const expiry = [
    ...(link.expiresAt ? [words.expires(date(link.expiresAt.toISOString()))] : []),
    ...(recording.expiresAt ? [words.deletedOn(date(recording.expiresAt))] : []),
  ].join(" ");
  const href = safeHref(link.url);
  const subject = words.subject(room);
  const nameOf = (other: ArtifactLink) => {
    const name = words.artifact[other.type];
    return typeof name === "function" ? name(other.count ?? 0) : name;
  };
  const othersText = others.map((other) => `${nameOf(other)}${wording.colon.trimEnd()}\n${other.link.url}`);
  const othersHtml =
    others.length === 0
      ? ""
      : html`<h2 style="${STYLE.h2}">${words.alsoSaved}</h2>
<ul>${others.map((other) => html`<li style="${STYLE.p}"><a href="${safeHref(other.link.url)}" style="${STYLE.link}">${nameOf(other)}</a></li>`)}</ul>
`;

  const text = textDocument(wording, words.heading, [
    words.intro(room),
    textFacts(wording, facts),
    `${words.download}${wording.colon.trimEnd()}\n${link.url}`,
    ...(othersText.length > 0
      ? [`${words.alsoSaved}${wording.colon.trimEnd()}\n\n${othersText.join("\n\n")}`]
      : []),
    ...(expiry ? [expiry] : []),
    textFacts(wording, [reference]),
  ]);
  const body = html`<h1 style="${STYLE.h1}">${words.heading}</h1>
<p style="${STYLE.p}">${words.intro(room)}</p>
${factsTable(facts)}
<p style="${STYLE.p}"><a href="${href}" style="${STYLE.button}">${words.download}</a></p>
<p style="${STYLE.small}">${words.copyLink}<br><a href="${href}" style="${STYLE.link}">${link.url}</a></p>
${othersHtml}${expiry ? html`<p style="${STYLE.p}">${expiry}</p>\n` : ""}<p style="${STYLE.small}">${reference.label}${wording.colon}${reference.value}</p>`;
  return {
    subject,
    text,
    html: htmlDocument({ lang: wording.lang, title: subject, body, footer: wording.footer }),
    lang: wording.lang,
  };
}

/** The "recording failed" email: what happened, in plain words for its reason, and what to do. */
export function renderFailedEmail(
  recording: Recording,
  reason: EmailedFailure,
  options: RenderOptions,
): RenderedEmail {
  const { wording, intlLocale } = resolveLocale(recording.notify?.locale, options.defaultLanguage);
  const words = wording.failed;
  const room = displayedRoom(recording.room);
  const explanation = words.reasons[reason];
  const facts: Fact[] = [
    { label: wording.labels.room, value: room },
    ...participantFact(recording, wording),
    {
      label: wording.labels.requestedAt,
      value: formatDateTime(new Date(recording.createdAt), intlLocale, options.timeZone),
    },
    { label: wording.labels.reference, value: recording.id },
  ];
  const subject = words.subject(room);
  const text = textDocument(wording, words.heading, [
    words.intro(room),
    `${words.whatHappened}\n${explanation.happened}`,
    `${words.whatToDo}\n${explanation.todo}`,
    textFacts(wording, facts),
  ]);
  const body = html`<h1 style="${STYLE.h1}">${words.heading}</h1>
<p style="${STYLE.p}">${words.intro(room)}</p>
<h2 style="${STYLE.h2}">${words.whatHappened}</h2>
<p style="${STYLE.p}">${explanation.happened}</p>
<h2 style="${STYLE.h2}">${words.whatToDo}</h2>
<p style="${STYLE.p}">${explanation.todo}</p>
${factsTable(facts)}`;
  return {
    subject,
    text,
    html: htmlDocument({ lang: wording.lang, title: subject, body, footer: wording.footer }),
    lang: wording.lang,
  };
}

/** The "live stream ended" email of a stream-only recording: where it went and how each stream ended. */
export function renderEndedEmail(recording: Recording, options: RenderOptions): RenderedEmail {
  const { wording, intlLocale } = resolveLocale(recording.notify?.locale, options.defaultLanguage);
  const words = wording.ended;
  const room = displayedRoom(recording.room);
  const duration = durationOf(recording);
  const facts: Fact[] = [
    { label: wording.labels.room, value: room },
    ...participantFact(recording, wording),
    {
      label: wording.labels.streamedAt,
      value: formatDateTime(
        new Date(recording.startedAt ?? recording.createdAt),
        intlLocale,
        options.timeZone,
      ),
    },
    ...(duration !== undefined
      ? [{ label: wording.labels.duration, value: formatDuration(duration, intlLocale) }]
      : []),
  ];
  const reference = { label: wording.labels.reference, value: recording.id };
  // URLs as egress reported them: stream keys already redacted, never shown whole.
  const streams = recording.streams.map((stream) => {
    const status =
      stream.status === "failed"
        ? words.streamStatus.failed(stream.error ?? "?")
        : words.streamStatus[stream.status];
    const retries = stream.retries > 0 ? `, ${words.reconnected(stream.retries)}` : "";
    return { url: stream.url, how: `${status}${retries}` };
  });
  const subject = words.subject(room);
  const streamsText =
    streams.length === 0
      ? words.noStreams
      : `${words.streamedTo}${wording.colon.trimEnd()}\n${streams.map((s) => `- ${s.url} (${s.how})`).join("\n")}`;
  const streamsHtml =
    streams.length === 0
      ? html`<p style="${STYLE.p}">${words.noStreams}</p>`
      : html`<h2 style="${STYLE.h2}">${words.streamedTo}</h2>
<ul>${streams.map((s) => html`<li style="${STYLE.p}"><code>${s.url}</code> (${s.how})</li>`)}</ul>`;
  const text = textDocument(wording, words.heading, [
    words.intro(room),
    textFacts(wording, facts),
    streamsText,
    textFacts(wording, [reference]),
  ]);
  const body = html`<h1 style="${STYLE.h1}">${words.heading}</h1>
<p style="${STYLE.p}">${words.intro(room)}</p>
${factsTable(facts)}
${streamsHtml}
<p style="${STYLE.small}">${reference.label}${wording.colon}${reference.value}</p>`;
  return {
    subject,
    text,
    html: htmlDocument({ lang: wording.lang, title: subject, body, footer: wording.footer }),
    lang: wording.lang,
  };
}
