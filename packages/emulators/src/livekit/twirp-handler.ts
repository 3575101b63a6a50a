import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CreateRoomRequest,
  DeleteRoomRequest,
  DeleteRoomResponse,
  ListEgressRequest,
  ListEgressResponse,
  ListParticipantsRequest,
  ListParticipantsResponse,
  ListRoomsRequest,
  ListRoomsResponse,
  ParticipantEgressRequest,
  RemoveParticipantResponse,
  RoomCompositeEgressRequest,
  RoomParticipantIdentity,
  StopEgressRequest,
  TrackCompositeEgressRequest,
  TrackEgressRequest,
  UpdateLayoutRequest,
  UpdateStreamRequest,
  WebEgressRequest,
} from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import { BodyTooLargeError, readBody } from "../common/http.ts";
import { type AuthResult, authenticate, hasGrant, hasRoomRecord } from "./auth.ts";
import { DelayedTwirpError, type EgressFleet, type StartSource, WIRE_JSON } from "./egress-fleet.ts";
import type { RecordedRequest, RequestLog } from "./request-log.ts";
import type { RoomRegistry } from "./rooms.ts";
import { badRoute, TwirpError, writePlainError, writeTwirpError } from "./twirp.ts";

const PREFIX = "/twirp/";
const MAX_BODY_BYTES = 1024 * 1024;

const EMULATED: Record<string, readonly string[]> = {
  "livekit.Egress": [
    "StartRoomCompositeEgress",
    "StartParticipantEgress",
    "StartTrackCompositeEgress",
    "StartTrackEgress",
    "StartWebEgress",
    "StopEgress",
    "ListEgress",
    "UpdateLayout",
    "UpdateStream",
  ],
  "livekit.RoomService": ["CreateRoom", "ListRooms", "DeleteRoom", "ListParticipants", "RemoveParticipant"],
};

// Methods that exist on a real server but are not emulated: answered `unimplemented` rather
// than `bad_route`, so a caller can tell "wrong path" from "not here".
const NOT_EMULATED: Record<string, readonly string[]> = {
  "livekit.Egress": ["StartEgress"],
  "livekit.RoomService": [
    "GetParticipant",
    "MutePublishedTrack",
    "UpdateParticipant",
    "UpdateSubscriptions",
    "SendData",
    "UpdateRoomMetadata",
    "ForwardParticipant",
    "MoveParticipant",
    "PerformRpc",
  ],
};

type Encoding = "json" | "protobuf";

interface Decoder<T> {
  fromJson(value: unknown, options: { ignoreUnknownFields: boolean }): T;
  fromBinary(bytes: Uint8Array): T;
}

export interface TwirpContext {
  keys: ReadonlyMap<string, string>;
  fleet: EgressFleet;
  rooms: RoomRegistry;
  log: RequestLog;
  logger: Logger;
  startLatencyMs: () => number;
  /** Waits, but gives up early when the emulator closes. */
  sleep: (ms: number) => Promise<void>;
}

/** Any message the services answer with. */
interface ReplyMessage {
  toBinary(): Uint8Array;
  toJson(options: typeof WIRE_JSON): unknown;
}

interface Reply {
  message: ReplyMessage;
  /** protojson's EmitUnpopulated writes these unset message fields as null; protobuf-es leaves them out. */
  nullFields?: readonly string[];
}

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
  const [service = "", methodName = null] = path.startsWith(PREFIX)
    ? path.slice(PREFIX.length).split("/", 2)
    : [];
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
    const reply = await route(req, raw, encoding, path, service, methodName, auth, entry, context);
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
  service: string,
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
  const implemented = EMULATED[service]?.includes(methodName ?? "") ?? false;
  const notEmulated = NOT_EMULATED[service]?.includes(methodName ?? "") ?? false;
  if (methodName === null || (!implemented && !notEmulated)) {
    throw badRoute(`no handler for path ${JSON.stringify(path)}`, httpMethod, path);
  }
  if (encoding === null) {
    throw badRoute(
      `unexpected Content-Type: ${JSON.stringify(req.headers["content-type"] ?? "")}`,
      httpMethod,
      path,
    );
  }
  if (notEmulated) {
    throw new TwirpError("unimplemented", `${methodName} is not implemented by the LiveKit emulator`);
  }
  const decoded = <T extends { toJson(): unknown }>(decoder: Decoder<T>): T => {
    const request = decode(decoder, raw, encoding);
    if (encoding === "protobuf") entry.body = request.toJson();
    return request;
  };
  return service === "livekit.Egress"
    ? egressMethod(methodName, decoded, auth, entry, context)
    : roomMethod(methodName, decoded, auth, context);
}

type Decode = <T extends { toJson(): unknown }>(decoder: Decoder<T>) => T;

async function egressMethod(
  methodName: string,
  decoded: Decode,
  auth: AuthResult,
  entry: Omit<RecordedRequest, "seq">,
  context: TwirpContext,
): Promise<Reply> {
  const source: StartSource | undefined =
    methodName === "StartRoomCompositeEgress"
      ? { case: "roomComposite", value: decoded(RoomCompositeEgressRequest) }
      : methodName === "StartParticipantEgress"
        ? { case: "participant", value: decoded(ParticipantEgressRequest) }
        : methodName === "StartTrackCompositeEgress"
          ? { case: "trackComposite", value: decoded(TrackCompositeEgressRequest) }
          : methodName === "StartTrackEgress"
            ? { case: "track", value: decoded(TrackEgressRequest) }
            : methodName === "StartWebEgress"
              ? { case: "web", value: decoded(WebEgressRequest) }
              : undefined;
  if (source) {
    requireRecordGrant(auth);
    try {
      const info = context.fleet.start(source);
      entry.egressId = info.egressId;
      // The egress already exists; only the answer is late, so a client that gives up early
      // leaves a recording running that it never heard of.
      const latency = context.startLatencyMs();
      if (latency > 0) await context.sleep(latency);
      return { message: info };
    } catch (error) {
      if (error instanceof DelayedTwirpError && error.afterMs > 0) await context.sleep(error.afterMs);
      throw error;
    }
  }
  if (methodName === "UpdateLayout") {
    const request = decoded(UpdateLayoutRequest);
    requireRecordGrant(auth);
    entry.egressId = request.egressId || null;
    return { message: context.fleet.updateLayout(request.egressId, request.layout) };
  }
  if (methodName === "UpdateStream") {
    const request = decoded(UpdateStreamRequest);
    requireRecordGrant(auth);
    entry.egressId = request.egressId || null;
    return {
      message: context.fleet.updateStream(request.egressId, request.addOutputUrls, request.removeOutputUrls),
    };
  }
  if (methodName === "StopEgress") {
    const request = decoded(StopEgressRequest);
    requireRecordGrant(auth);
    entry.egressId = request.egressId || null;
    return { message: context.fleet.stop(request.egressId) };
  }
  const request = decoded(ListEgressRequest);
  requireRecordGrant(auth);
  return {
    message: new ListEgressResponse({ items: context.fleet.list(request) }),
    nullFields: ["next_page_token"],
  };
}

/** RoomService, with the grants livekit-server asks of each method (pkg/service/roomservice.go). */
function roomMethod(methodName: string, decoded: Decode, auth: AuthResult, context: TwirpContext): Reply {
  const { rooms } = context;
  switch (methodName) {
    case "CreateRoom": {
      const request = decoded(CreateRoomRequest);
      requireGrant(auth, "roomCreate");
      return {
        message: rooms.create({
          name: request.name,
          emptyTimeout: request.emptyTimeout,
          departureTimeout: request.departureTimeout,
          maxParticipants: request.maxParticipants,
          metadata: request.metadata,
        }),
      };
    }
    case "ListRooms": {
      const request = decoded(ListRoomsRequest);
      requireGrant(auth, "roomList");
      return { message: new ListRoomsResponse({ rooms: rooms.list(request.names) }) };
    }
    case "DeleteRoom": {
      const request = decoded(DeleteRoomRequest);
      requireGrant(auth, "roomCreate");
      rooms.delete(request.room);
      return { message: new DeleteRoomResponse() };
    }
    case "ListParticipants": {
      const request = decoded(ListParticipantsRequest);
      requireGrant(auth, "roomAdmin", request.room);
      return { message: new ListParticipantsResponse({ participants: rooms.participants(request.room) }) };
    }
    default: {
      const request = decoded(RoomParticipantIdentity);
      requireGrant(auth, "roomAdmin", request.room);
      rooms.remove(request.room, request.identity);
      return { message: new RemoveParticipantResponse() };
    }
  }
}

/** EnsureCreatePermission, EnsureListPermission, EnsureAdminPermission (which also checks the room). */
function requireGrant(auth: AuthResult, grant: "roomCreate" | "roomList" | "roomAdmin", room?: string): void {
  if (!hasGrant(auth, grant, room)) throw new TwirpError("unauthenticated", "permissions denied");
}

function requireRecordGrant(auth: AuthResult): void {
  if (!hasRoomRecord(auth)) throw new TwirpError("unauthenticated", "permissions denied");
}

function writeReply(res: ServerResponse, reply: Reply, encoding: Encoding): void {
  const { message } = reply;
  if (encoding === "protobuf") {
    const bytes = Buffer.from(message.toBinary());
    res.writeHead(200, { "content-type": "application/protobuf", "content-length": bytes.length });
    res.end(bytes);
    return;
  }
  const json = message.toJson(WIRE_JSON) as Record<string, unknown>;
  for (const field of reply.nullFields ?? []) json[field] = null;
  const text = JSON.stringify(json);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
