import {
  type JobData,
  participantKindName,
  ROOM_EVENTS,
  type RoomEventName,
  trackTypeName,
} from "@recfleet/queues";
import { applyEgressReport, egressReportOf } from "@recfleet/recordings";
import express, { type RequestHandler, Router } from "express";
import type { WebhookEvent } from "livekit-server-sdk";
import { methodNotAllowed } from "../http/errors.ts";
import { ProblemError } from "../http/problem.ts";
import type { RouteContext } from "./context.ts";
import { cancelUnstartedIn, wakeStartsFor } from "./room-events.ts";

export const WEBHOOK_PATH = "/v1/webhooks/livekit";
/** Egress events carry the whole original request; they are larger than API requests. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const WEBHOOK_TYPES = ["application/webhook+json", "application/json"];

type Ack = { outcome: "applied" | "ignored"; detail: string; recordingId: string | null };

const rawBody: RequestHandler[] = [
  (req, _res, next) => {
    if (!req.is(WEBHOOK_TYPES)) {
      throw new ProblemError("unsupported-media-type", {
        detail: "LiveKit webhooks are sent as Content-Type: application/webhook+json.",
      });
    }
    next();
  },
  // The signature covers the exact bytes: keep them raw.
  express.raw({ type: WEBHOOK_TYPES, limit: WEBHOOK_BODY_LIMIT }),
];

function isDecodeError(error: unknown): boolean {
  return (
    error instanceof SyntaxError || (error instanceof Error && error.message.startsWith("cannot decode"))
  );
}

function isRoomEvent(name: string): name is RoomEventName {
  return (ROOM_EVENTS as readonly string[]).includes(name);
}

/**
 * A room event as the auto-record rules take it, from a verified webhook; undefined when it lacks
 * what its kind needs (a participant_joined without its participant): nothing to act on.
 */
function roomEventJobOf(event: WebhookEvent): JobData<"room-event"> | undefined {
  if (!isRoomEvent(event.event) || !event.room || event.room.sid === "" || event.id === "") return undefined;
  const { participant, track } = event;
  const needsParticipant = event.event.startsWith("participant_");
  const needsTrack = event.event.startsWith("track_");
  if ((needsParticipant || needsTrack) && !participant?.sid) return undefined;
  if (needsTrack && !track?.sid) return undefined;
  return {
    event: event.event,
    eventId: event.id,
    room: event.room.name,
    roomSid: event.room.sid,
    participant: participant?.sid
      ? { sid: participant.sid, identity: participant.identity, kind: participantKindName(participant.kind) }
      : null,
    track: track?.sid ? { sid: track.sid, type: trackTypeName(track.type) } : null,
    createdAt: Number(event.createdAt),
  };
}

/**
 * LiveKit webhooks (egress events, and the room events that matter: room_started and
 * track_published wake a start waiting for its room or track, room_finished cancels what had not
 * begun recording, and every room, participant and track event of a room an auto-record rule
 * matches goes to the recorder as a room-event job), verified with the LiveKit API key and secret (a JWT in Authorization
 * whose sha256 claim covers the body). Each event moves the recording through the store's state
 * machine; answers are 200 for anything well signed (LiveKit would otherwise retry in vain),
 * 503 only while Redis is away, so that LiveKit retries.
 */
export function webhookRoutes(ctx: RouteContext): Router {
  const { logger, store, producer, webhookReceiver, work, autoRecord } = ctx;

  /** What the event does to recordings asked for through the API (a start waiting, an unstarted one). */
  const onRecordings = async (
    event: WebhookEvent,
    room: string,
  ): Promise<[Ack["outcome"], string, string | null]> => {
    if (event.event === "room_started" || event.event === "track_published") {
      const what = event.event === "room_started" ? "room" : "track";
      const woken = await work(wakeStartsFor(ctx, room), `waking starts waiting for the ${what}`);
      return woken.length > 0
        ? ["applied", `${what} in room "${room}" is there now: start retried at once`, woken[0] ?? null]
        : ["ignored", `no recording of room "${room}" waits to start`, null];
    }
    if (event.event === "room_finished") {
      const cancelled = await work(cancelUnstartedIn(ctx, room), "cancelling what had not started");
      return cancelled.length > 0
        ? [
            "applied",
            `room "${room}" closed: ${cancelled.length} recording(s) cancelled`,
            cancelled[0] ?? null,
          ]
        : ["ignored", `room "${room}" closed: nothing waited to start`, null];
    }
    return ["ignored", `"${event.event}" changes no recording asked for through the API`, null];
  };

  const roomEvent = async (event: WebhookEvent): Promise<[Ack["outcome"], string, string | null]> => {
    const room = event.room?.name ?? "";
    if (room === "") return ["ignored", `"${event.event}" names no room`, null];
    const [outcome, detail, recordingId] = await onRecordings(event, room);
    const job = roomEventJobOf(event);
    if (!job || autoRecord.matching(room).length === 0) return [outcome, detail, recordingId];
    await work(producer.enqueue("room-event", job), "queueing the room event for the auto-record rules");
    return ["applied", `${detail}; queued for the auto-record rules`, recordingId];
  };
  const router = Router();

  router
    .route(WEBHOOK_PATH)
    .post(...rawBody, async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
      let event: WebhookEvent;
      try {
        event = await webhookReceiver.receive(raw, req.get("authorization"));
      } catch (error) {
        if (isDecodeError(error)) {
          throw new ProblemError("malformed-json", {
            detail: "The signed body is not a LiveKit webhook event.",
          });
        }
        throw new ProblemError("invalid-webhook-signature", {
          detail:
            "The Authorization header must be a JWT signed with the LiveKit API secret whose sha256 claim matches the body.",
        });
      }
      const ack = (outcome: Ack["outcome"], detail: string, recordingId: string | null = null) => {
        logger.info(
          {
            event: event.event,
            eventId: event.id,
            egressId: event.egressInfo?.egressId,
            room: event.room?.name,
            recordingId,
            outcome,
            detail,
          },
          "livekit webhook",
        );
        res.json({ outcome, detail, recordingId } satisfies Ack);
      };
      if (isRoomEvent(event.event)) {
        const [outcome, detail, recordingId] = await roomEvent(event);
        return ack(outcome, detail, recordingId);
      }
      const info = event.egressInfo;
      if (!event.event.startsWith("egress_") || !info || info.egressId === "") {
        return ack("ignored", `"${event.event}" is not an egress event`);
      }
      const recording = await work(store.getByEgressId(info.egressId), "looking up the egress");
      if (!recording) return ack("ignored", `egress ${info.egressId} belongs to no recording`);
      const report = egressReportOf(info);
      if (!report) return ack("ignored", "unknown egress status", recording.id);
      const outcome = await work(
        applyEgressReport(store, recording, report, "webhook"),
        "updating the recording",
      );
      if (outcome.refusedFilename !== undefined) {
        logger.warn(
          {
            eventId: event.id,
            egressId: info.egressId,
            recordingId: recording.id,
            filename: outcome.refusedFilename,
            expected: recording.output?.file?.filepath,
          },
          "webhook named a file recfleet did not ask for: not taken",
        );
      }
      if (outcome.failed) {
        // Queued whenever the recording is failed for this reason, not only on the first move:
        // a re-delivery after a failed enqueue still gets the owner told (the job id de-duplicates).
        await work(
          producer.enqueue("recording-failed", { recordingId: recording.id, reason: outcome.failed }),
          "queueing the failure notification",
        );
      }
      if (outcome.streamEnded) {
        await work(
          producer.enqueue("stream-ended", { recordingId: recording.id }),
          "queueing the stream-ended notification",
        );
      }
      if (outcome.changed)
        return ack("applied", `recording is now ${outcome.recording.status}`, recording.id);
      return ack(
        "ignored",
        `recording is ${outcome.recording.status}: ${report.status} changes nothing`,
        recording.id,
      );
    })
    .all(methodNotAllowed(["POST"]));
  return router;
}
