import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { AdminRequestError, parseAdminBody, readJsonBody } from "../common/admin.ts";
import { sendJson } from "../common/http.ts";
import type { IngestedStream } from "../rtmp/index.ts";
import { EgressAdminError, type EgressSnapshot, type FailOptions } from "./egress-fleet.ts";
import { type EgressFaults, InvalidFaultsError } from "./faults.ts";
import type { RecordedRequest } from "./request-log.ts";
import { TRACK_SOURCES, type TrackSourceName } from "./rooms.ts";
import { PUBLISHABLE_CODECS } from "./track-output.ts";
import { TwirpError } from "./twirp.ts";
import type { WebhookDelivery } from "./webhooks.ts";

export const ADMIN_PREFIX = "/_admin";

/** What the admin endpoint exposes; the programmatic handle offers the same operations. */
export interface EgressAdminApi {
  faults(): EgressFaults;
  setFaults(patch: unknown): EgressFaults;
  requests(): RecordedRequest[];
  egresses(): EgressSnapshot[];
  egress(egressId: string): EgressSnapshot | undefined;
  webhooks(): WebhookDelivery[];
  /** Sends a past event again (same id and body); undefined for an unknown id. */
  resendWebhook(id: string): WebhookDelivery | undefined;
  /** Forgets ended egresses (LiveKit's purge), or every one with `all` (its Redis lost its data). */
  forgetEgresses(all: boolean): number;
  rooms(): { room: Record<string, unknown>; participants: Record<string, unknown>[] }[];
  createRoom(name: string): Record<string, unknown>;
  closeRoom(name: string): void;
  join(room: string, join: ParticipantJoin): Record<string, unknown>;
  leave(room: string, identity: string): void;
  publish(room: string, identity: string, track: TrackPublish): Record<string, unknown>;
  unpublish(room: string, identity: string, track: string): void;
  mute(room: string, identity: string, track: string, muted: boolean): Record<string, unknown>;
  failEgress(egressId: string, options?: FailOptions): EgressSnapshot;
  /** The publishes the RTMP ingest received (keys shown by hint only); null without an ingest. */
  rtmpStreams(): Omit<IngestedStream, "key">[] | null;
  /** Cuts the ingest's publishing connections, as its restart would; answers how many. */
  dropRtmpStreams(): number;
  crashEgress(egressId: string): EgressSnapshot;
  reset(): void;
}

const sourceSchema = z.enum(Object.keys(TRACK_SOURCES) as [TrackSourceName, ...TrackSourceName[]]);
const joinSchema = z
  .object({
    identity: z.string().min(1).max(256),
    name: z.string().max(256).optional(),
    metadata: z
      .string()
      .max(64 * 1024)
      .optional(),
    publish: z.array(sourceSchema).max(4).optional(),
  })
  .strict();
const publishSchema = z
  .object({
    source: sourceSchema,
    name: z.string().max(256).optional(),
    muted: z.boolean().optional(),
    /** The codec it is published in: opus (audio); vp8 (the default), vp9 or h264 (video). */
    codec: z.enum([...PUBLISHABLE_CODECS.audio, ...PUBLISHABLE_CODECS.video]).optional(),
  })
  .strict();
const muteSchema = z.object({ muted: z.boolean() }).strict();
const createRoomSchema = z.object({ name: z.string().min(1).max(256) }).strict();
const forgetSchema = z.object({ all: z.boolean().optional() }).strict();

export type ParticipantJoin = z.infer<typeof joinSchema>;
export type TrackPublish = z.infer<typeof publishSchema>;

const failBodySchema = z
  .object({ error: z.string().min(1).optional(), errorCode: z.number().int().min(0).optional() })
  .strict();

function pathPart(part: string | undefined): string | undefined {
  if (part === undefined) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AdminRequestError(400, `bad escape in ${JSON.stringify(part)}`);
  }
}

const ROOM_ROUTE = /^\/rooms(?:\/([^/]+)(\/participants(?:\/([^/]+)(\/tracks(?:\/([^/]+))?)?)?)?)?$/;

/**
 * The /rooms routes: what a LiveKit client would do (join, publish, mute, leave) and what
 * RoomService does (create, close). Answers and returns true, or returns false for no route.
 */
async function handleRooms(
  req: IncomingMessage,
  res: ServerResponse,
  api: EgressAdminApi,
  path: string,
  method: string,
): Promise<boolean> {
  const match = ROOM_ROUTE.exec(path);
  if (!match) return false;
  const [, roomPart, participants, identityPart, tracks, trackPart] = match;
  const room = pathPart(roomPart);
  const identity = pathPart(identityPart);
  const track = pathPart(trackPart);
  const body = async () => readJsonBody(req, 64 * 1024);
  let answer: unknown;
  if (room === undefined) {
    if (method === "GET") answer = { rooms: api.rooms() };
    else if (method === "POST") answer = api.createRoom(parseAdminBody(createRoomSchema, await body()).name);
  } else if (participants === undefined) {
    if (method === "DELETE") {
      api.closeRoom(room);
      answer = { closed: room };
    }
  } else if (identity === undefined) {
    if (method === "POST") answer = api.join(room, parseAdminBody(joinSchema, await body()));
  } else if (tracks === undefined) {
    if (method === "DELETE") {
      api.leave(room, identity);
      answer = { left: identity };
    }
  } else if (track === undefined) {
    if (method === "POST") answer = api.publish(room, identity, parseAdminBody(publishSchema, await body()));
  } else if (method === "DELETE") {
    api.unpublish(room, identity, track);
    answer = { unpublished: track };
  } else if (method === "PATCH" || method === "PUT") {
    answer = api.mute(room, identity, track, parseAdminBody(muteSchema, await body()).muted);
  }
  if (answer === undefined) return false;
  sendJson(res, 200, answer);
  return true;
}

/**
 * The admin endpoint: JSON in, JSON out, no authentication (it is a test and sandbox tool).
 *   GET  /_admin/faults            current faults      PUT|PATCH|POST /_admin/faults  change some
 *   GET  /_admin/requests          every Twirp request received
 *   GET  /_admin/egresses[/{id}]   egresses with their hidden state (crashed, upload)
 *   POST /_admin/egresses/{id}/fail  {"error"?, "errorCode"?}    POST /_admin/egresses/{id}/crash
 *   POST /_admin/egresses/forget   {"all"?}: LiveKit forgets ended egresses (all: every one)
 *   GET  /_admin/webhooks          webhook deliveries  POST /_admin/reset  forget everything
 *   POST /_admin/webhooks/{id}/resend  deliver an event again (at least once)
 *   GET  /_admin/rtmp              what the RTMP ingest received  POST /_admin/rtmp/drop  cut its publishes
 *   GET|POST /_admin/rooms  {"name"}            DELETE /_admin/rooms/{room}  (closes it)
 *   POST /_admin/rooms/{room}/participants {"identity","name"?,"metadata"?,"publish"?: [sources]}
 *   DELETE /_admin/rooms/{room}/participants/{identity}
 *   POST /_admin/rooms/{room}/participants/{identity}/tracks {"source","name"?,"muted"?}
 *   PATCH|DELETE /_admin/rooms/{room}/participants/{identity}/tracks/{sid or source} {"muted"}
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  api: EgressAdminApi,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://emulator").pathname.slice(ADMIN_PREFIX.length);
  const method = req.method ?? "GET";
  try {
    if (path === "/faults") {
      if (method === "GET") return sendJson(res, 200, api.faults());
      if (method === "PUT" || method === "PATCH" || method === "POST") {
        return sendJson(res, 200, api.setFaults(await readJsonBody(req, 64 * 1024)));
      }
    } else if (path === "/requests" && method === "GET") {
      return sendJson(res, 200, { requests: api.requests() });
    } else if (path === "/webhooks" && method === "GET") {
      return sendJson(res, 200, { deliveries: api.webhooks() });
    } else if (/^\/webhooks\/[^/]+\/resend$/.test(path) && method === "POST") {
      const id = pathPart(path.split("/")[2]) ?? "";
      const delivery = api.resendWebhook(id);
      if (!delivery) throw new AdminRequestError(404, `no webhook ${id}`);
      return sendJson(res, 202, { delivery });
    } else if (path === "/egresses" && method === "GET") {
      return sendJson(res, 200, { egresses: api.egresses() });
    } else if (path === "/rtmp" && method === "GET") {
      const streams = api.rtmpStreams();
      if (streams === null) throw new AdminRequestError(404, "no RTMP ingest runs (--rtmp-ingest-port)");
      return sendJson(res, 200, { streams });
    } else if (path === "/rtmp/drop" && method === "POST") {
      return sendJson(res, 200, { dropped: api.dropRtmpStreams() });
    } else if (path === "/reset" && method === "POST") {
      api.reset();
      return sendJson(res, 200, { reset: true });
    } else if (path === "/egresses/forget" && method === "POST") {
      const { all } = parseAdminBody(forgetSchema, await readJsonBody(req, 64 * 1024));
      return sendJson(res, 200, { forgotten: api.forgetEgresses(all ?? false) });
    } else if (path.startsWith("/rooms")) {
      if (await handleRooms(req, res, api, path, method)) return;
    } else {
      const match = /^\/egresses\/([^/]+)(?:\/(fail|crash))?$/.exec(path);
      if (match) {
        const [, egressId = "", action] = match;
        if (action === undefined && method === "GET") {
          const snapshot = api.egress(egressId);
          if (!snapshot) throw new AdminRequestError(404, `no egress ${egressId}`);
          return sendJson(res, 200, snapshot);
        }
        if (action === "fail" && method === "POST") {
          return sendJson(
            res,
            200,
            api.failEgress(
              egressId,
              parseAdminBody(failBodySchema, await readJsonBody(req, 64 * 1024)) satisfies FailOptions,
            ),
          );
        }
        if (action === "crash" && method === "POST") return sendJson(res, 200, api.crashEgress(egressId));
      }
    }
    sendJson(res, 404, { error: `no admin route ${method} ${ADMIN_PREFIX}${path}` });
  } catch (error) {
    if (
      error instanceof AdminRequestError ||
      error instanceof EgressAdminError ||
      error instanceof TwirpError
    ) {
      return sendJson(res, error.status, { error: error.message });
    }
    if (error instanceof InvalidFaultsError) return sendJson(res, 400, { error: error.message });
    throw error;
  }
}
