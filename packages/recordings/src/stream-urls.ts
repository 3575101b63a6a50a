// Stream URLs carry secrets: an RTMP URL's last path element is the stream key, an SRT URL's
// query holds its stream id and passphrase. recfleet keeps the whole URLs apart from the
// recording's document (the store's stream URL field, read only to call egress) and shows,
// logs and stores everywhere else the redacted form built here — for RTMP exactly the one
// egress itself reports (livekit/protocol utils/redact.go RedactIdentifier), so that egress'
// stream results and recfleet's own list name a stream the same way.

export type StreamScheme = "rtmp" | "rtmps" | "srt";
export const STREAM_SCHEMES: readonly StreamScheme[] = ["rtmp", "rtmps", "srt"];

/** rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1): egress' pattern. */
const RTMP_URL = /^(rtmps?:\/\/)(.*\/)(.*\/)(\S*)( live=1)?$/;
/** A stream URL inside free text (an error message): up to the next space or quote. */
const URL_IN_TEXT = /\b(?:rtmps?|srt):\/\/[^\s"'<>]+/gi;
const MAX_URL_LENGTH = 2048;

/** The first and last three characters of a secret, braced: `{abc...xyz}` (fewer when short). */
export function redactIdentifier(identifier: string): string {
  for (let i = 3; i > 0; i -= 1) {
    if (identifier.length >= i * 3) return `{${identifier.slice(0, i)}...${identifier.slice(-i)}}`;
  }
  return "{...}";
}

export function urlSchemeOf(url: string): string {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? "";
}

/**
 * A stream URL as recfleet shows it: an RTMP key as egress redacts it; every SRT query value
 * hidden, the stream id as `{abc...xyz}` (it names the stream), anything else (the passphrase)
 * whole, as `{...}`. Safe on any text: a URL it cannot split loses everything after its host.
 */
export function redactStreamUrl(url: string): string {
  const rtmp = RTMP_URL.exec(url);
  if (rtmp) return `${rtmp[1]}${rtmp[2]}${rtmp[3]}${redactIdentifier(rtmp[4] ?? "")}${rtmp[5] ?? ""}`;
  const query = url.indexOf("?");
  if (urlSchemeOf(url) === "srt" && query >= 0) {
    const params = url
      .slice(query + 1)
      .split("&")
      .map((param) => {
        const equals = param.indexOf("=");
        if (equals < 0) return param;
        const name = param.slice(0, equals);
        const value = param.slice(equals + 1);
        return `${name}=${name === "streamid" ? redactIdentifier(value) : "{...}"}`;
      });
    return `${url.slice(0, query)}?${params.join("&")}`;
  }
  if (urlSchemeOf(url) === "srt") return url;
  // Not a stream URL recfleet accepts: keep the scheme and host only.
  const host = /^([a-z][a-z0-9+.-]*:\/\/[^/?#\s]*)/i.exec(url)?.[1];
  return host ? `${host}/{...}` : "{...}";
}

/**
 * A stream URL egress reported (StreamInfo.url), as recfleet shows it: egress has redacted an
 * RTMP key already; an SRT URL it reports whole, so it is redacted here.
 */
export function shownReportedUrl(url: string): string {
  return urlSchemeOf(url) === "srt" ? redactStreamUrl(url) : url;
}

/** Free text (an egress error) with every stream URL in it redacted. */
export function scrubStreamUrls(text: string): string {
  // Punctuation after a URL is the sentence's ("invalid url <url>: invalid scheme"), not the key's.
  return text.replace(URL_IN_TEXT, (match) => {
    const url = match.replace(/[:;,.)]+$/, "");
    return `${redactStreamUrl(url)}${match.slice(url.length)}`;
  });
}

/** Why egress would refuse this stream URL, in words for an API answer; null when it is fine. */
export function streamUrlProblem(url: string): string | null {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (/[\s\p{Cc}]/u.test(url.replace(/ live=1$/, ""))) return "must not contain spaces or control characters";
  const scheme = urlSchemeOf(url);
  if (!STREAM_SCHEMES.includes(scheme as StreamScheme)) return "must be an rtmp://, rtmps:// or srt:// URL";
  if (!URL.canParse(url)) return "must be a URL";
  const parsed = new URL(url);
  if (parsed.hostname === "") return "must name a host";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry a user name or password";
  if (scheme === "srt") {
    if (parsed.port === "") return "must name a port (srt://host:port)";
    return null;
  }
  const rtmp = RTMP_URL.exec(url);
  if (!rtmp || (rtmp[3] ?? "") === "/" || (rtmp[4] ?? "") === "") {
    return "must be rtmp(s)://host(/path)/app/stream-key, as egress takes it";
  }
  if (rtmp[2]?.includes("?") || rtmp[2]?.includes("#")) return "must not have a query before the stream key";
  return null;
}

/** The host a stream URL points at (for the private-address check), without brackets. */
export function streamHostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, "");
}
