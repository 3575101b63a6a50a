import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type EgressInfo,
  ListEgressRequest,
  ListEgressResponse,
  RoomCompositeEgressRequest,
  StopEgressRequest,
} from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import { BodyTooLargeError, readBody } from "../common/http.ts";
import { type AuthResult, authenticate, hasRoomRecord } from "./auth.ts";
import { type EgressFleet, WIRE_JSON } from "./egress-fleet.ts";
import type { RecordedRequest, RequestLog } from "./request-log.ts";
import { badRoute, TwirpError, writePlainError, writeTwirpError } from "./twirp.ts";

const PREFIX = "/twirp/livekit.Egress/";
const MAX_BODY_BYTES = 1024 * 1024;

// Methods of livekit.Egress that exist on a real server but are not emulated: answered
// `unimplemented` rather than `bad_route`, so a caller can tell "wrong path" from "not here".
const NOT_EMULATED = new Set([
  "StartEgress",
  "StartWebEgress",
  "StartParticipantEgress",
  "StartTrackCompositeEgress",
  "StartTrackEgress",
  "UpdateLayout",
  "UpdateStream",
]);

type Encoding = "json" | "protobuf";

interface Decoder<T> {
  fromJson(value: unknown, options: { ignoreUnknownFields: boolean }): T;
  fromBinary(bytes: Uint8Array): T;
}

export interface TwirpContext {
  keys: ReadonlyMap<string, string>;
  fleet: EgressFleet;
  log: RequestLog;
  logger: Logger;
  startLatencyMs: () => number;
  /** Waits, but gives up early when the emulator closes. */
  sleep: (ms: number) => Promise<void>;
}

type Reply = { kind: "info"; info: EgressInfo } | { kind: "list"; items: EgressInfo[] };

function contentTypeOf(req: IncomingMessage): Encoding | null {
  const header = req.headers["content-type"] ?? "";
  const base = header.split(";")[0]?.trim().toLowerCase();
  if (base === "application/json") return "json";
  if (base === "application/protobuf") return "protobuf";
  return null;
}

function describeBody(
  raw: Buffer,
  encoding: Encoding | null,
  decoded: { toJson(): unknown } | null,
): unknown {
  if (encoding === "protobuf") return decoded ? decoded.toJson() : `<${raw.length} undecodable bytes>`;
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function decode<T>(decoder: Decoder<T>, raw: Buffer, encoding: Encoding): T {
  try {
    if (encoding === "protobuf") return decoder.fromBinary(new Uint8Array(raw));
    // twirp-go decodes with protojson DiscardUnknown.
    return decoder.fromJson(JSON.parse(raw.toString("utf8")), { ignoreUnknownFields: true });
  } catch {
    throw new TwirpError("malformed", `the ${encoding} request could not be decoded`);
  }
}

/**
 * One request under /twirp/: livekit-server's auth middleware, then the Twirp server's routing
 * and decoding, then the Egress service itself — in that order, since the order decides which
 * error a bad request gets.
 */
export async function handleTwirp(
  req: IncomingMessage,
  res: ServerResponse,
  context: TwirpContext,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://emulator").pathname;
  const methodName = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : null;
  const entry: Omit<RecordedRequest, "seq"> = {
    at: new Date().toISOString(),
    httpMethod: req.method ?? "",
    path,
    method: methodName,
    requestId: (req.headers["x-livekit-request-id"] as string | undefined) ?? null,
    contentType: req.headers["content-type"] ?? null,
    body: null,
    authOk: false,
    authError: null,
    roomRecord: false,
    status: null,
    code: null,
    egressId: null,
    clientGone: false,
  };
  const respond = (status: number, code: string | null) => {
    entry.status = status;
    entry.code = code;
    entry.clientGone = res.destroyed;
    context.log.record(entry);
    context.logger.info(
      { method: methodName ?? path, status, code, egressId: entry.egressId },
      "twirp request",
    );
  };

  let raw: Buffer;
  try {
    raw = await readBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const twirpError = new TwirpError("malformed", `failed to read request: ${error.message}`);
    writeTwirpError(res, twirpError);
    respond(twirpError.status, twirpError.code);
    return;
  }
  const encoding = contentTypeOf(req);
  entry.body = describeBody(raw, encoding, null);

  const auth: AuthResult = authenticate(req, context.keys);
  entry.authOk = auth.kind === "ok";
  entry.roomRecord = hasRoomRecord(auth);
  if (auth.kind === "rejected") {
    entry.authError = auth.message;
    writePlainError(res, 401, auth.message);
    respond(401, null);
    return;
  }
  if (auth.kind === "anonymous") entry.authError = "no token";

  try {
    const reply = await route(req, raw, encoding, path, methodName, auth, entry, context);
    writeReply(res, reply, encoding ?? "json");
    respond(200, null);
  } catch (error) {
    if (!(error instanceof TwirpError)) throw error;
    writeTwirpError(res, error);
    respond(error.status, error.code);
  }
}

async function route(
  req: IncomingMessage,
  raw: Buffer,
  encoding: Encoding | null,
  path: string,
  methodName: string | null,
  auth: AuthResult,
  entry: Omit<RecordedRequest, "seq">,
  context: TwirpContext,
): Promise<Reply> {
  const httpMethod = req.method ?? "";
  if (httpMethod !== "POST") {
    throw badRoute(
      `unsupported method ${JSON.stringify(httpMethod)} (only POST is allowed)`,
      httpMethod,
      path,
    );
  }
  const implemented = ["StartRoomCompositeEgress", "StopEgress", "ListEgress"];
  if (methodName === null || (!implemented.includes(methodName) && !NOT_EMULATED.has(methodName))) {
    throw badRoute(`no handler for path ${JSON.stringify(path)}`, httpMethod, path);
  }
  if (encoding === null) {
    throw badRoute(
      `unexpected Content-Type: ${JSON.stringify(req.headers["content-type"] ?? "")}`,
      httpMethod,
      path,
    );
  }
  if (NOT_EMULATED.has(methodName)) {
    throw new TwirpError("unimplemented", `${methodName} is not implemented by the egress emulator`);
  }

  if (methodName === "StartRoomCompositeEgress") {
    const request = decode(RoomCompositeEgressRequest, raw, encoding);
    if (encoding === "protobuf") entry.body = request.toJson();
    requireRecordGrant(auth);
    let info: EgressInfo | null = null;
    let failure: TwirpError | null = null;
    try {
      info = context.fleet.start(request);
      entry.egressId = info.egressId;
    } catch (error) {
      if (!(error instanceof TwirpError)) throw error;
      failure = error;
    }
    // The egress (if any) already exists; only the answer is late, so a client that gives up
    // early leaves a recording running that it never heard of.
    const latency = context.startLatencyMs();
    if (latency > 0) await context.sleep(latency);
    if (failure) throw failure;
    return { kind: "info", info: info as EgressInfo };
  }
  if (methodName === "StopEgress") {
    const request = decode(StopEgressRequest, raw, encoding);
    if (encoding === "protobuf") entry.body = request.toJson();
    requireRecordGrant(auth);
    entry.egressId = request.egressId || null;
    return { kind: "info", info: context.fleet.stop(request.egressId) };
  }
  const request = decode(ListEgressRequest, raw, encoding);
  if (encoding === "protobuf") entry.body = request.toJson();
  requireRecordGrant(auth);
  return { kind: "list", items: context.fleet.list(request) };
}

function requireRecordGrant(auth: AuthResult): void {
  if (!hasRoomRecord(auth)) throw new TwirpError("unauthenticated", "permissions denied");
}

function writeReply(res: ServerResponse, reply: Reply, encoding: Encoding): void {
  const message = reply.kind === "info" ? reply.info : new ListEgressResponse({ items: reply.items });
  if (encoding === "protobuf") {
    const bytes = Buffer.from(message.toBinary());
    res.writeHead(200, { "content-type": "application/protobuf", "content-length": bytes.length });
    res.end(bytes);
    return;
  }
  const json = message.toJson(WIRE_JSON) as Record<string, unknown>;
  // protojson's EmitUnpopulated writes an unset message field as null; protobuf-es leaves it out.
  if (reply.kind === "list") json.next_page_token = null;
  const text = JSON.stringify(json);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
