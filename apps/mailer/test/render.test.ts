import { FAILURE_CODES, type Recording } from "@recfleet/recordings";
import { describe, expect, it } from "vitest";
import {
  type EmailedFailure,
  escapeHtml,
  formatDuration,
  formatSize,
  html,
  LANGUAGES,
  renderFailedEmail,
  renderSavedEmail,
  resolveLocale,
  SafeHtml,
  safeHref,
  WORDINGS,
} from "../src/render/index.ts";

const recording: Recording = {
  tenant: "default",
  id: "019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30",
  room: "Weekly sync",
  kind: "video",
  profile: "low-cpu",
  layout: "speaker",
  source: { type: "room" },
  outputs: null,
  artifacts: [],
  streams: [],
  streamsAsOf: null,
  encoding: null,
  customBaseUrl: null,
  notify: { email: "owner@example.com" },
  metadata: null,
  status: "saved",
  egressId: "EG_1",
  output: null,
  file: { bucket: "recordings", key: "recordings/x.mp4", size: 512, etag: null, contentType: "video/mp4" },
  error: null,
  stopRequested: false,
  trigger: null,
  expireDays: null,
  expiresAt: null,
  deleteRequested: null,
  createdAt: "2026-01-15T09:59:51.000Z",
  updatedAt: "2026-01-15T11:02:40.000Z",
  startedAt: "2026-01-15T10:00:02.000Z",
  endedAt: "2026-01-15T10:00:47.000Z",
  timeline: [],
};
const options = { defaultLanguage: "en", timeZone: "UTC" } as const;
const link = { url: "https://meet.example/r/1?a=1&b=2", expiresAt: new Date("2026-01-22T11:00:00Z") };
const EMAILED = FAILURE_CODES.filter((code): code is EmailedFailure => code !== "notification_failed");
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, " ");

describe("html escaping", () => {
  it("escapes every interpolated string but keeps fragments built with html as they are", () => {
    const inner = html`<b>${"<i>&\"'"}</b>`;
    expect(html`<p title="${'"x"'}">${inner}${["<a>", 1, null, false]}</p>`.value).toBe(
      '<p title="&quot;x&quot;"><b>&lt;i&gt;&amp;&quot;&#39;</b>&lt;a&gt;1</p>',
    );
    expect(escapeHtml("</script>")).toBe("&lt;/script&gt;");
    expect(new SafeHtml("<br>").toString()).toBe("<br>");
  });

  it("only links to http and https URLs", () => {
    expect(safeHref("https://meet.example/r/1")).toBe("https://meet.example/r/1");
    expect(() => safeHref("javascript:alert(1)")).toThrow(/javascript:/);
  });
});

describe("formatting", () => {
  it.each([
    [45_000, "en-US", "45 seconds"],
    [45 * 60_000, "en-US", "45 minutes"],
    [3_600_000, "en-US", "1 hour"],
    [3_749_000, "en-US", "1 hour, 2 minutes"],
    [2 * 3_600_000 + 60_000, "fr-FR", "2 heures et 1 minute"],
  ])("a duration of %i ms reads %s in %s", (ms, locale, expected) => {
    expect(plain(formatDuration(ms, locale))).toBe(expected);
  });

  it.each([
    [512, "en-US", "512 bytes"],
    [12_300, "en-US", "12.3 kB"],
    [48_213_000, "en-US", "48.2 MB"],
    [1_250_000_000, "fr-FR", "1,3 Go"],
  ])("a size of %i bytes reads %s in %s", (bytes, locale, expected) => {
    expect(plain(formatSize(bytes, locale))).toBe(expected);
  });
});

describe("locale choice", () => {
  it.each([
    ["fr", "en", "fr", "fr-FR"],
    ["fr-CA", "en", "fr", "fr-CA"],
    ["en-GB", "fr", "en", "en-GB"],
    ["de-DE", "en", "en", "en-US"],
    ["de", "fr", "fr", "fr-FR"],
    ["not a locale!", "en", "en", "en-US"],
    [undefined, "fr", "fr", "fr-FR"],
  ] as const)("asked for %s with default %s: wording %s, dates in %s", (asked, fallback, lang, intl) => {
    const resolved = resolveLocale(asked, fallback);
    expect(resolved.wording.lang).toBe(lang);
    expect(resolved.intlLocale).toBe(intl);
  });
});

describe("the recording-ready email", () => {
  it("leaves out what is not known: no size, no duration, no expiry for application links", () => {
    const email = renderSavedEmail(
      {
        ...recording,
        file: { ...(recording.file as NonNullable<Recording["file"]>), size: null },
        endedAt: null,
      },
      { url: link.url, expiresAt: null },
      options,
    );
    expect(email.text).not.toMatch(/Size:|Duration:|works until/);
    expect(email.html).not.toMatch(/Size<|Duration<|works until/);
    expect(email.text).toContain("Recorded: Thursday, January 15, 2026 at 10:00 AM UTC");
  });

  it("escapes the link in the HTML part and keeps it whole in the text part", () => {
    const email = renderSavedEmail(recording, link, options);
    expect(email.html).toContain('href="https://meet.example/r/1?a=1&amp;b=2"');
    expect(email.text).toContain("Download the recording:\nhttps://meet.example/r/1?a=1&b=2\n");
    expect(email.text).toContain("Duration: 45 seconds");
    expect(email.text).toContain("This link works until Thursday, January 22, 2026 at 11:00 AM UTC.");
  });

  it("says who a participant recording recorded, in both parts, cleaned like a room name", () => {
    const email = renderSavedEmail(
      { ...recording, source: { type: "participant", identity: "alice\u202e<b>", screenShare: false } },
      link,
      options,
    );
    expect(email.text).toContain("Participant: alice<b>");
    expect(email.html).toContain("alice&lt;b&gt;");
    expect(renderSavedEmail(recording, link, options).text).not.toContain("Participant");
  });

  it("lists the recording's other objects with their links, in both parts and both languages", () => {
    const others = [
      {
        type: "playlist" as const,
        count: 12,
        link: { url: "https://s3.example/p.m3u8?x=1&y=2", expiresAt: null },
      },
      { type: "images" as const, count: 1, link: { url: "https://s3.example/EG_1.json", expiresAt: null } },
    ];
    const email = renderSavedEmail(recording, link, options, others);
    expect(email.text).toContain(
      "Also saved with this recording:\n\nHLS playlist (12 segments):\nhttps://s3.example/p.m3u8?x=1&y=2\n\nThumbnails (1 image), their index:\nhttps://s3.example/EG_1.json",
    );
    expect(email.html).toContain('href="https://s3.example/p.m3u8?x=1&amp;y=2"');
    const french = renderSavedEmail(
      { ...recording, notify: { email: "a@b.example", locale: "fr" } },
      link,
      options,
      others,
    );
    expect(french.text).toContain("Liste de lecture HLS (12 segments)");
    expect(french.text).toContain("Vignettes (1 image), leur index");
    expect(renderSavedEmail(recording, link, options).text).not.toContain("Also saved");
  });

  it("names the room in the subject exactly as given, and only as text in the HTML", () => {
    const room = 'Q3 "plans" <b>&</b>';
    const email = renderSavedEmail({ ...recording, room }, link, options);
    expect(email.subject).toBe(`Your recording of "${room}" is ready`);
    expect(email.html).not.toContain("<b>&</b>");
    expect(email.html).toContain("&lt;b&gt;&amp;&lt;/b&gt;");
  });

  it("drops bidi overrides and zero-width characters from the room, and cuts a long one", () => {
    // U+202E reverses what follows on screen: "moc.elpmaxe" would read as a trusted host.
    const room = "Win\u202E moc.elpmaxe\u202C\u200B  now\u2066!\u2069";
    const email = renderSavedEmail({ ...recording, room }, link, options);
    expect(email.subject).toBe('Your recording of "Win moc.elpmaxe now!" is ready');
    expect(email.text).not.toMatch(/\p{Cf}/u);
    expect(email.html).not.toMatch(/\p{Cf}/u);
    const long = renderFailedEmail({ ...recording, room: "x".repeat(300) }, "lost", options);
    expect(long.subject).toBe(`Your recording of "${"x".repeat(79)}…" failed`);
  });
});

describe("the recording-failed email", () => {
  it.each(LANGUAGES.flatMap((lang) => EMAILED.map((code) => [lang, code] as const)))(
    "in %s, explains %s in its own words in both parts",
    (lang, code) => {
      const email = renderFailedEmail(
        { ...recording, status: "failed", notify: { email: "o@example.com", locale: lang } },
        code,
        options,
      );
      const { happened, todo } = WORDINGS[lang].failed.reasons[code];
      expect(email.lang).toBe(lang);
      expect(email.text).toContain(happened);
      expect(email.text).toContain(todo);
      expect(email.html).toContain(escapeHtml(happened));
      expect(email.html).toContain(escapeHtml(todo));
      for (const other of EMAILED.filter((c) => c !== code)) {
        expect(email.text).not.toContain(WORDINGS[lang].failed.reasons[other].happened);
      }
    },
  );

  it("has every French sentence translated, not copied from English", () => {
    for (const code of EMAILED) {
      expect(WORDINGS.fr.failed.reasons[code].happened).not.toBe(WORDINGS.en.failed.reasons[code].happened);
      expect(WORDINGS.fr.failed.reasons[code].todo).not.toBe(WORDINGS.en.failed.reasons[code].todo);
    }
    expect(WORDINGS.fr.saved.subject("x")).toBe("Votre enregistrement de « x » est prêt");
    expect(WORDINGS.fr.failed.subject("x")).toBe("Votre enregistrement de « x » a échoué");
  });
});
