import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type StreamOutput, StreamProtocol } from "@livekit/protocol";
import { type Publication, publishRtmp, type RtmpEndpoint } from "../rtmp/index.ts";
import { invalidInput } from "./encoding.ts";
import { TwirpError } from "./twirp.ts";

// egress' stream outputs (livekit/egress pkg/config/output.go, urls.go, output_stream.go;
// livekit/protocol utils/redact.go): the protocol from the first URL's scheme, each URL checked
// against it, RTMP URLs split and their key redacted.

export type StreamKind = "rtmp" | "srt";

const SCHEME_KINDS: Record<string, StreamKind | "websocket"> = {
  rtmp: "rtmp",
  rtmps: "rtmp",
  mux: "rtmp",
  twitch: "rtmp",
  srt: "srt",
  ws: "websocket",
  wss: "websocket",
};

/** rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1): egress' and protocol's own pattern. */
const RTMP_URL = /^(rtmps?:\/\/)(.*\/)(.*\/)(\S*)( live=1)?$/;

/** protocol's RedactIdentifier: the first and last three characters (fewer for a short one). */
export function redactIdentifier(identifier: string): string {
  for (let i = 3; i > 0; i -= 1) {
    if (identifier.length >= i * 3) return `{${identifier.slice(0, i)}...${identifier.slice(-i)}}`;
  }
  return "{...}";
}

/** protocol's RedactStreamKey, which EgressInfo.request's stream URLs go through. */
export function redactStreamKey(url: string): string {
  const shorthand = /^(mux|twitch):\/\/(\S+)$/.exec(url);
  if (shorthand) return `${shorthand[1]}://${redactIdentifier(shorthand[2] ?? "")}`;
  const match = RTMP_URL.exec(url);
  if (match) return `${match[1]}${match[2]}${match[3]}${redactIdentifier(match[4] ?? "")}${match[5] ?? ""}`;
  const query = url.indexOf("?");
  if (query < 0 || query === url.length - 1) return url;
  const params = url
    .slice(query + 1)
    .split("&")
    .map((param) => {
      const equals = param.indexOf("=");
      return equals >= 0 && equals < param.length - 1 ? `${param.slice(0, equals)}={...}` : param;
    });
  return `${url.slice(0, query)}?${params.join("&")}`;
}

function invalidUrl(raw: string, reason: string): TwirpError {
  // egress names the URL as it was sent, key and all: the caller is the one who knows it.
  return new TwirpError("invalid_argument", `invalid url ${raw}: ${reason}`);
}

function schemeOf(raw: string): string | null {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw);
  return match?.[1]?.toLowerCase() ?? null;
}

/** One stream URL as egress keeps it: how it goes out, and how EgressInfo shows it. */
export interface StreamTarget {
  kind: StreamKind;
  /** The URL egress streams to (mux:// expanded); UpdateStream's remove names it. */
  parsedUrl: string;
  /** StreamInfo.url: the key redacted for RTMP; SRT URLs are shown as given. */
  shownUrl: string;
  rtmp: RtmpEndpoint | null;
  srt: { host: string; port: number } | null;
}

function rtmpEndpoint(parsed: string): RtmpEndpoint | null {
  const match = RTMP_URL.exec(parsed);
  if (!match) return null;
  const [, scheme = "", before = "", app = "", key = ""] = match;
  const authorityEnd = before.indexOf("/");
  const authority = before.slice(0, authorityEnd);
  const path = `${before.slice(authorityEnd + 1)}${app}`.replace(/\/$/, "");
  const tls = scheme === "rtmps://";
  if (!URL.canParse(`http://${authority}`)) return null;
  const host = new URL(`http://${authority}`);
  return {
    tls,
    host: host.hostname.replace(/^\[|\]$/g, ""),
    port: host.port === "" ? (tls ? 443 : 1935) : Number(host.port),
    app: path,
    key,
  };
}

/** egress' ValidateUrl for one URL of a stream output of `kind`. */
export function streamTarget(raw: string, kind: StreamKind): StreamTarget {
  if (!URL.canParse(raw)) throw invalidUrl(raw, "parse error");
  const scheme = schemeOf(raw) ?? "";
  if (SCHEME_KINDS[scheme] !== kind) throw invalidUrl(raw, "invalid scheme");
  if (kind === "srt") {
    const url = new URL(raw);
    return {
      kind,
      parsedUrl: raw,
      shownUrl: raw,
      rtmp: null,
      srt: { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 0) },
    };
  }
  if (scheme === "twitch") {
    // egress asks ingest.twitch.tv for its template: a call this emulator has no network for.
    throw new TwirpError("unimplemented", "the egress emulator cannot reach Twitch's ingest list");
  }
  const parsed = scheme === "mux" ? `rtmps://global-live.mux.com:443/app/${new URL(raw).host}` : raw;
  const rtmp = rtmpEndpoint(parsed);
  const match = RTMP_URL.exec(parsed);
  if (!rtmp || !match) {
    throw invalidUrl(
      raw,
      "rtmp urls must be of format rtmp(s)://{host}(/{path})/{app}/{stream_key}( live=1)",
    );
  }
  const shown = `${match[1]}${match[2]}${match[3]}${redactIdentifier(match[4] ?? "")}${match[5] ?? ""}`;
  return { kind, parsedUrl: parsed, shownUrl: shown, rtmp, srt: null };
}

/** The stream output's kind: its protocol, or the first URL's scheme (egress' DEFAULT_PROTOCOL). */
export function streamKindOf(output: StreamOutput): StreamKind {
  if (output.protocol === StreamProtocol.RTMP) return "rtmp";
  if (output.protocol === StreamProtocol.SRT) return "srt";
  if (output.protocol === StreamProtocol.WEBSOCKET) {
    throw new TwirpError("unimplemented", "the egress emulator sends no websocket streams");
  }
  const first = output.urls[0];
  if (first === undefined) throw invalidInput("stream protocol");
  if (!URL.canParse(first)) throw invalidUrl(first, "parse error");
  const kind = SCHEME_KINDS[schemeOf(first) ?? ""];
  if (kind === undefined) throw invalidUrl(first, "invalid protocol");
  if (kind === "websocket")
    throw new TwirpError("unimplemented", "the egress emulator sends no websocket streams");
  return kind;
}

export interface StreamConnectionHandlers {
  /** Media reaches the destination (RTMP: the ingest accepted the publish). */
  started(): void;
  /** The connection broke; `progressed` when media had flowed on it. */
  broke(error: Error, progressed: boolean): void;
}

export interface StreamConnection {
  close(): void;
}

export interface StreamConnectOptions {
  connectTimeoutMs: number;
  mediaIntervalMs: number;
}

/** RTMP: a publish to the ingest. SRT: datagrams to the listener (the emulator speaks no SRT). */
export function connectStream(
  target: StreamTarget,
  options: StreamConnectOptions,
  handlers: StreamConnectionHandlers,
): StreamConnection {
  if (target.rtmp) {
    let progressed = false;
    const publication: Publication = publishRtmp(target.rtmp, options, {
      started: () => {
        progressed = true;
        handlers.started();
      },
      ended: (error) => {
        if (error) handlers.broke(error, progressed);
      },
    });
    return { close: () => publication.stop() };
  }
  const srt = target.srt as { host: string; port: number };
  const socket: UdpSocket = createSocket(srt.host.includes(":") ? "udp6" : "udp4");
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    socket.close();
  };
  socket.on("error", (error) => {
    if (closed) return;
    close();
    handlers.broke(error, true);
  });
  socket.connect(srt.port, srt.host, () => {
    const packet = Buffer.alloc(188, 0x47);
    timer = setInterval(() => socket.send(packet), options.mediaIntervalMs);
  });
  // egress counts an SRT stream as started with the pipeline, not with a connection.
  handlers.started();
  return { close };
}
