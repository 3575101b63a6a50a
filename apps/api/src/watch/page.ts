import type { Recording } from "@recfleet/recordings";

export type WatchLocale = "en" | "fr";

/** The page's language: the recording's email locale, else the reader's first known one, else English. */
export function localeOf(
  recordingLocale: string | undefined,
  acceptLanguage: string | undefined,
): WatchLocale {
  if (recordingLocale === "fr" || recordingLocale === "en") return recordingLocale;
  for (const part of (acceptLanguage ?? "").split(",")) {
    const tag = part.trim().slice(0, 2).toLowerCase();
    if (tag === "fr" || tag === "en") return tag;
  }
  return "en";
}

const WORDS = {
  en: {
    recordedOn: "Recorded on",
    duration: "Duration",
    linkUntil: "This link works until",
    download: "Download",
    audioOnly: "Audio recording",
    noPlayer: "Your browser cannot play this recording here; download it instead.",
    gone: {
      revoked: ["This link was revoked", "Whoever shared this recording has withdrawn the link."],
      expired: ["This link has expired", "Ask whoever shared this recording for a new link."],
      removed: ["This recording was removed", "Its files are no longer kept."],
      unknown: ["This link does not exist", "Check that the address was copied whole."],
    },
  },
  fr: {
    recordedOn: "Enregistré le",
    duration: "Durée",
    linkUntil: "Ce lien fonctionne jusqu’au",
    download: "Télécharger",
    audioOnly: "Enregistrement audio",
    noPlayer: "Votre navigateur ne peut pas lire cet enregistrement ici ; téléchargez-le.",
    gone: {
      revoked: ["Ce lien a été révoqué", "La personne qui a partagé cet enregistrement a retiré le lien."],
      expired: [
        "Ce lien a expiré",
        "Demandez un nouveau lien à la personne qui a partagé cet enregistrement.",
      ],
      removed: ["Cet enregistrement a été supprimé", "Ses fichiers ne sont plus conservés."],
      unknown: ["Ce lien n’existe pas", "Vérifiez que l’adresse a été copiée en entier."],
    },
  },
} as const;

export type GoneReason = keyof (typeof WORDS)["en"]["gone"];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function formatDate(iso: string, locale: WatchLocale): string {
  return new Intl.DateTimeFormat(locale === "fr" ? "fr-FR" : "en-GB", {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "UTC",
  }).format(new Date(iso));
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function layout(locale: WatchLocale, title: string, body: string): string {
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/watch/assets/watch.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** What the watch page shows of a recording: where its media is, relative to the page. */
export interface WatchView {
  recording: Recording;
  locale: WatchLocale;
  /** The page's own path, `/watch/<token>`: media routes hang under it. */
  base: string;
  shareExpiresAt: string;
  /** Which media it plays: its file, else its HLS playlist. */
  media: "file" | "hls";
  poster: boolean;
}

export function watchPage(view: WatchView): string {
  const words = WORDS[view.locale];
  const { recording, base } = view;
  const audio = recording.kind === "audio";
  const started = recording.startedAt ?? recording.createdAt;
  const duration =
    recording.startedAt && recording.endedAt
      ? Date.parse(recording.endedAt) - Date.parse(recording.startedAt)
      : null;
  const poster = view.poster && !audio ? ` poster="${base}/poster.jpeg"` : "";
  const player =
    view.media === "file"
      ? `<${audio ? "audio" : "video"} id="player" controls preload="metadata"${poster} src="${base}/file">${escapeHtml(words.noPlayer)}</${audio ? "audio" : "video"}>`
      : `<video id="player" controls preload="metadata"${poster} data-hls="${base}/playlist.m3u8">${escapeHtml(words.noPlayer)}</video>`;
  const facts = [
    `<dt>${words.recordedOn}</dt><dd><time datetime="${started}">${escapeHtml(formatDate(started, view.locale))}</time></dd>`,
    ...(duration !== null ? [`<dt>${words.duration}</dt><dd>${formatDuration(duration)}</dd>`] : []),
    `<dt>${words.linkUntil}</dt><dd><time datetime="${view.shareExpiresAt}">${escapeHtml(formatDate(view.shareExpiresAt, view.locale))}</time></dd>`,
  ].join("\n");
  const download =
    view.media === "file"
      ? `<p><a class="button" href="${base}/file?download=1" download>${words.download}</a></p>`
      : "";
  const body = `<h1>${escapeHtml(recording.room)}</h1>
${audio ? `<p>${words.audioOnly}</p>` : ""}
${player}
<dl>
${facts}
</dl>
${download}
${view.media === "hls" ? '<script src="/watch/assets/hls.min.js"></script>' : ""}
<script src="/watch/assets/watch.js"></script>`;
  return layout(view.locale, recording.room, body);
}

export function gonePage(reason: GoneReason, locale: WatchLocale): string {
  const [title, detail] = WORDS[locale].gone[reason];
  return layout(locale, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(detail)}</p>`);
}
