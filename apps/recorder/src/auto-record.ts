import { ParticipantInfo_State } from "@livekit/protocol";
import {
  AUTO_RECORD_ENDS,
  type AutoRecordConfig,
  type AutoRecordRule,
  type AutoRecordTrigger,
  loadAutoRecordRules,
  loadTenants,
  type ProfileCatalog,
  type RecordingsConfig,
  type TenantsConfig,
} from "@recfleet/config";
import { type JobData, participantKindName, trackTypeName } from "@recfleet/queues";
import {
  defaultFileFormat,
  type NewRecording,
  type OutputSpec,
  type RecordingKind,
  type RecordingSource,
  type RecordingStatus,
  type RecordingTrigger,
} from "@recfleet/recordings";
import type { AutoRecordContext, RecorderContext } from "./context.ts";
import { classifyEgressError } from "./egress-errors.ts";
import { handleStop } from "./handlers/stop.ts";

export type RoomEvent = JobData<"room-event">;

/** The rules of AUTO_RECORD_FILE, checked against the profiles and tenants; throws ConfigError. */
export function loadAutoRecord(
  config: { autoRecord: AutoRecordConfig; tenants: TenantsConfig; recordings: RecordingsConfig },
  profiles: ProfileCatalog,
): AutoRecordContext {
  const tenants = loadTenants({ apiKeys: [], file: config.tenants.file, requireKeys: false });
  const rules = loadAutoRecordRules({ file: config.autoRecord.file, profiles, tenants, checkOwners: false });
  const fallback = config.recordings.expireDays > 0 ? config.recordings.expireDays : undefined;
  return { rules, expireDaysOf: (tenant) => tenants.get(tenant)?.expireDays ?? fallback };
}

/**
 * How long a trigger's idempotency scope is kept, renewed each time its session is seen again (a
 * re-delivered webhook, every reconciler sweep while the room lasts): a session that was recorded
 * once is never recorded again, however long it runs.
 */
export const TRIGGER_TTL_MS = 7 * 24 * 3_600_000;

/** The LiveKit session an event is about, for a rule's trigger: its sid, or undefined. */
function sessionOf(trigger: AutoRecordTrigger, event: RoomEvent): string | undefined {
  if (trigger === "room_started") return event.roomSid;
  if (trigger === "participant_joined") return event.participant?.sid;
  return event.track?.sid;
}

/** One recording per rule and session: the scope a rule's start and end for one sid share. */
function scopeOf(rule: AutoRecordRule, sid: string): string {
  return `auto:${rule.name}:${rule.trigger}:${sid}`;
}

/** The recording a rule makes of an event's session, or why it makes none. */
function recordingOf(
  context: RecorderContext,
  rule: AutoRecordRule,
  event: RoomEvent,
  trigger: RecordingTrigger,
): NewRecording | string {
  let source: RecordingSource;
  let kind: RecordingKind = rule.kind ?? "video";
  if (rule.trigger === "room_started") source = { type: "room" };
  else if (rule.trigger === "participant_joined") {
    const { participant } = event;
    if (!participant) return "no participant";
    // Egress' own participants (a room composite's template joins the room) are not people.
    if (participant.kind === "egress") return "an egress participant";
    source = { type: "participant", identity: participant.identity, screenShare: rule.screenShare };
  } else {
    const { track } = event;
    if (!track) return "no track";
    if (track.type === "data") return "a data track";
    source = { type: "track", trackId: track.sid };
    kind = track.type;
  }
  const outputs: OutputSpec[] = (rule.outputs ?? [{ type: "file" }]).map((output) =>
    output.type === "file" ? { type: "file", format: defaultFileFormat(kind, source) } : output,
  );
  const expireDays = context.autoRecord.expireDaysOf(rule.tenant);
  return {
    tenant: rule.tenant,
    room: event.room,
    kind,
    source,
    outputs,
    profile: source.type === "track" ? null : (rule.profile ?? context.profiles.defaultName),
    layout: rule.layout ?? context.profiles.defaultLayout,
    notify: rule.notify,
    metadata: rule.metadata,
    trigger,
    ...(expireDays !== undefined ? { expireDays } : {}),
  };
}

async function startFor(
  context: RecorderContext,
  rule: AutoRecordRule,
  event: RoomEvent,
  sid: string,
): Promise<string> {
  const trigger: RecordingTrigger = { rule: rule.name, event: rule.trigger, sid };
  const input = recordingOf(context, rule, event, trigger);
  if (typeof input === "string") return `${rule.name}: skipped (${input})`;
  const scope = scopeOf(rule, sid);
  const created = await context.store.create(input, {
    idempotency: { scope, bodyHash: "started", ttlMs: TRIGGER_TTL_MS },
  });
  switch (created.outcome) {
    case "created":
      await context.producer.enqueue("start", { recordingId: created.recording.id });
      context.logger.info(
        { rule: rule.name, room: event.room, sid, recordingId: created.recording.id },
        "auto-record: recording started",
      );
      return `${rule.name}: started ${created.recording.id}`;
    case "replayed":
      await context.store.touchIdempotency(scope, TRIGGER_TTL_MS);
      // Its start job may have been lost between the create and the enqueue: the same id, never a second.
      if (created.recording.status === "queued") {
        await context.producer.enqueue("start", { recordingId: created.recording.id });
      }
      return `${rule.name}: already recording ${created.recording.id}`;
    case "idempotency_mismatch":
      await context.store.touchIdempotency(scope, TRIGGER_TTL_MS);
      return `${rule.name}: ended before it started (${AUTO_RECORD_ENDS[rule.trigger]} came first): nothing recorded`;
    case "conflict":
      return `${rule.name}: already recorded by ${created.existing.id}`;
    case "concurrency_limit":
      return `${rule.name}: tenant at its limit of ${created.limit} recordings`;
  }
}

async function endFor(context: RecorderContext, rule: AutoRecordRule, event: RoomEvent, sid: string) {
  const closed = await context.store.closeIdempotency(scopeOf(rule, sid), TRIGGER_TTL_MS);
  if ("closed" in closed) return `${rule.name}: nothing started; a late ${rule.trigger} will start nothing`;
  const reason = `${event.event} (auto-record rule "${rule.name}")`;
  await context.store.requestStop(closed.recordingId, `stop requested: ${reason}`);
  const outcome = await handleStop(context, { recordingId: closed.recordingId, reason });
  return `${rule.name}: ${outcome}`;
}

/**
 * Applies a room event to every auto-record rule matching its room: the rule's trigger starts
 * one recording per session (room, participant or track sid) whatever the repeats, and the
 * event that ends the session stops it — or, arriving first, makes the trigger start nothing.
 * Both go through one idempotency scope per rule and sid, written atomically by Redis.
 */
export async function applyRoomEvent(context: RecorderContext, event: RoomEvent): Promise<string> {
  const outcomes: string[] = [];
  for (const rule of context.autoRecord.rules.matching(event.room)) {
    const starts = event.event === rule.trigger;
    if (!starts && event.event !== AUTO_RECORD_ENDS[rule.trigger]) continue;
    const sid = sessionOf(rule.trigger, event);
    if (sid === undefined) continue;
    outcomes.push(
      starts ? await startFor(context, rule, event, sid) : await endFor(context, rule, event, sid),
    );
  }
  return outcomes.length > 0 ? outcomes.join("; ") : "no rule applies";
}

/** Statuses a missed room_finished can leave a room recording in. */
const LIVE: readonly RecordingStatus[] = ["queued", "starting", "active"];

/**
 * What missed webhooks should have done, read from RoomService: every open room a rule matches
 * gets the rule's start for the room, each participant or each published track — idempotent, so
 * a session recorded (or ended) before is left alone — and a rule's room recording whose room is
 * no longer open is stopped, as its room_finished would have. Answers what it did, counted.
 */
export async function catchUpRules(context: RecorderContext, batch: number): Promise<Record<string, number>> {
  const summary: Record<string, number> = {};
  if (context.autoRecord.rules.rules.length === 0) return summary;
  const count = (action: string) => {
    summary[`auto-record ${action} (webhook missed)`] =
      (summary[`auto-record ${action} (webhook missed)`] ?? 0) + 1;
  };
  const now = Math.floor(context.now() / 1000);
  const rooms = await context.rooms.listRooms();
  // A room's name can be opened again as another session (another sid): sessions are compared.
  const openSessions = new Map(rooms.map((room) => [room.name, room.sid]));
  for (const room of rooms) {
    const rules = context.autoRecord.rules.matching(room.name);
    if (rules.length === 0) continue;
    const base = { room: room.name, roomSid: room.sid, eventId: `reconcile-${room.sid}`, createdAt: now };
    const events: RoomEvent[] = [{ ...base, event: "room_started", participant: null, track: null }];
    if (rules.some((rule) => rule.trigger !== "room_started")) {
      let participants: Awaited<ReturnType<RecorderContext["rooms"]["listParticipants"]>> = [];
      try {
        participants = await context.rooms.listParticipants(room.name);
      } catch (error) {
        // Closed since it was listed: its room_finished is on the way.
        if (classifyEgressError(error).class !== "not_found") throw error;
      }
      for (const participant of participants) {
        // LiveKit sends participant_joined once a participant is ACTIVE (ICE connected): the same here.
        if (participant.state !== ParticipantInfo_State.ACTIVE) continue;
        const who = {
          sid: participant.sid,
          identity: participant.identity,
          kind: participantKindName(participant.kind),
        };
        events.push({ ...base, event: "participant_joined", participant: who, track: null });
        for (const track of participant.tracks) {
          const type = trackTypeName(track.type);
          events.push({
            ...base,
            event: "track_published",
            participant: who,
            track: { sid: track.sid, type },
          });
        }
      }
    }
    for (const event of events) {
      const outcome = await applyRoomEvent(context, event);
      for (let at = outcome.indexOf(": started "); at !== -1; at = outcome.indexOf(": started ", at + 1))
        count("started");
    }
  }
  for (const status of LIVE) {
    for (const id of await context.store.idsInStatus(status, batch)) {
      const recording = await context.store.get(id);
      const trigger = recording?.trigger;
      if (
        !recording ||
        trigger?.event !== "room_started" ||
        openSessions.get(recording.room) === trigger.sid
      ) {
        continue;
      }
      await applyRoomEvent(context, {
        event: "room_finished",
        eventId: `reconcile-${trigger.sid}`,
        room: recording.room,
        roomSid: trigger.sid,
        participant: null,
        track: null,
        createdAt: now,
      });
      count("stopped");
    }
  }
  return summary;
}
