import { DEFAULT_TENANT } from "@recfleet/config";
import type { Redis } from "ioredis";
import { z } from "zod";
import { eventsOf } from "./events.ts";
import { newRecordingId } from "./id.ts";
import { type RecordingKeys, recordingKeys } from "./keys.ts";
import {
  type Artifact,
  activeSlotOf,
  defaultOutputs,
  type FailureCode,
  type NewRecording,
  type Recording,
  type RecordingOutput,
  ROOM_SOURCE,
  recordingSchema,
  type StoredFile,
  type StreamResult,
} from "./model.ts";
import { type StoreScripts, storeScripts } from "./scripts.ts";
import {
  canTransition,
  IN_PROGRESS,
  isFinal,
  isInProgress,
  type RecordingStatus,
  STATUSES,
} from "./states.ts";

export interface RecordingStoreOptions {
  redis: Redis;
  prefix: string;
  /** Days a recording in a final state stays in Redis. */
  retentionDays: number;
  /** For tests: the clock. */
  now?: () => Date;
}

/** The body hash of a scope closed before any recording claimed it (closeIdempotency). */
export const CLOSED_SCOPE = "closed";

export type CreateResult =
  | { outcome: "created"; recording: Recording }
  /** Another recording of this room and kind is in progress. */
  | { outcome: "conflict"; existing: Recording }
  /** The Idempotency-Key was used before with the same body: the recording it created. */
  | { outcome: "replayed"; recording: Recording }
  /** The Idempotency-Key was used before with another body. */
  | { outcome: "idempotency_mismatch"; recordingId: string }
  /** The tenant already has `limit` recordings in progress. */
  | { outcome: "concurrency_limit"; limit: number };

export interface CreateOptions {
  idempotency?: IdempotencyClaim;
  /** Most recordings the tenant may have in progress, checked in the same atomic step; absent: none. */
  concurrencyLimit?: number;
}

export interface IdempotencyClaim {
  /** Unique per caller and key (e.g. a hash of the tenant and the header value). */
  scope: string;
  bodyHash: string;
  ttlMs: number;
}

export type TransitionResult =
  | { ok: true; recording: Recording }
  /** Not allowed from the current status (including "already there"): nothing changed. */
  | { ok: false; reason: "illegal"; recording: Recording }
  | { ok: false; reason: "not_found" };

export interface TransitionChanges {
  /** Why, in words a person reads on the timeline. */
  reason: string;
  /** Apply only from these statuses (a narrower rule than the table, checked in the same CAS). */
  onlyFrom?: readonly RecordingStatus[];
  egressId?: string;
  /** The file egress is asked for; set once, with the move to `starting`. */
  output?: RecordingOutput;
  file?: StoredFile;
  /** Every final object, with the move to `saved`. */
  artifacts?: Artifact[];
  /** The stream results of the report that moved it, kept unless the recording holds newer ones. */
  streams?: { results: StreamResult[]; asOf: string | null };
  error?: { code: FailureCode; message: string };
}

export interface Page {
  items: Recording[];
  nextCursor: string | null;
}

export interface ListQuery {
  /** Only this tenant's recordings; absent: every tenant's. */
  tenant?: string;
  room?: string;
  status?: RecordingStatus;
  limit: number;
  cursor?: string;
}

/** The statuses in which a recording's objects may still land and save it. */
const AWAITING_FILES: readonly RecordingStatus[] = ["queued", "starting", "active", "stopping", "stopped"];

const MAX_CAS_ATTEMPTS = 20;
/** The hash field holding a stream output's whole URLs (see streamUrlsOf). */
const STREAM_URLS_FIELD = "streamUrls";
/** At most this many stream URLs are kept for a recording, removed ones included. */
const MAX_STREAM_URLS = 40;

/** A stream URL kept for a recording: wanted now, or removed and waiting for egress to drop it. */
export interface StreamUrl {
  url: string;
  wanted: boolean;
}

const streamUrlsSchema = z.array(z.object({ url: z.string(), wanted: z.boolean() }));

function parseStreamUrls(raw: string | null | undefined): StreamUrl[] {
  return raw == null ? [] : streamUrlsSchema.parse(JSON.parse(raw));
}
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Recordings in Redis: one hash per recording holding a JSON document and its version, plus
 * indexes (room, status, egress id, the room's active recording). Every change is a
 * compare-and-set on the version, so it is atomic across processes.
 */
export class RecordingStore {
  private readonly redis: Redis;
  private readonly keys: RecordingKeys;
  private readonly scripts: StoreScripts;
  private readonly retentionMs: number;
  private readonly now: () => Date;

  constructor(options: RecordingStoreOptions) {
    this.redis = options.redis;
    this.keys = recordingKeys(options.prefix);
    this.scripts = storeScripts(options.redis);
    this.retentionMs = options.retentionDays * DAY_MS;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Creates a queued recording unless the room already has one of this kind in progress.
   * With an idempotency claim, a repeat of the same request returns the first recording.
   */
  async create(input: NewRecording, options: CreateOptions = {}): Promise<CreateResult> {
    const { idempotency, concurrencyLimit } = options;
    const at = this.now().toISOString();
    const tenant = input.tenant ?? DEFAULT_TENANT;
    const { streamUrls = [], ...fields } = input;
    const recording: Recording = {
      id: newRecordingId(),
      ...fields,
      tenant,
      source: input.source ?? ROOM_SOURCE,
      outputs: input.outputs ?? defaultOutputs(input.kind, input.source),
      status: "queued",
      egressId: null,
      output: null,
      file: null,
      artifacts: [],
      streams: [],
      streamsAsOf: null,
      error: null,
      stopRequested: false,
      encoding: input.encoding ?? null,
      customBaseUrl: input.customBaseUrl ?? null,
      expireDays: input.expireDays ?? null,
      trigger: input.trigger ?? null,
      expiresAt: null,
      deleteRequested: null,
      createdAt: at,
      updatedAt: at,
      startedAt: null,
      endedAt: null,
      timeline: [{ status: "queued", at, reason: "recording requested" }],
    };
    const idempotencyValue = idempotency
      ? JSON.stringify({ bodyHash: idempotency.bodyHash, recordingId: recording.id })
      : "";
    const [outcome, value] = await this.scripts.create(
      [
        this.keys.recording(recording.id),
        this.keys.active(input.room, activeSlotOf(recording)),
        idempotency ? this.keys.idempotency(idempotency.scope) : "",
        this.keys.byRoom(input.room),
        this.keys.byStatus("queued"),
        this.keys.all,
        this.keys.byTenant(tenant),
        this.keys.byTenantStatus(tenant, "queued"),
        ...(concurrencyLimit ? IN_PROGRESS.map((status) => this.keys.byTenantStatus(tenant, status)) : []),
      ],
      [
        recording.id,
        JSON.stringify(recording),
        "queued",
        idempotencyValue,
        String(idempotency?.ttlMs ?? 0),
        this.keys.recordingPrefix,
        String(concurrencyLimit ?? 0),
        streamUrls.length > 0 ? JSON.stringify(streamUrls.map((url) => ({ url, wanted: true }))) : "",
      ],
    );
    if (outcome === "created") return { outcome, recording };
    if (outcome === "limit") return { outcome: "concurrency_limit", limit: concurrencyLimit ?? 0 };
    if (outcome === "conflict") {
      const existing = await this.get(value ?? "");
      // The holder vanished between the script and this read: it was a race, try once more.
      return existing ? { outcome, existing } : this.create(input, options);
    }
    const previous = JSON.parse(value ?? "{}") as { bodyHash: string; recordingId: string };
    if (previous.bodyHash !== idempotency?.bodyHash) {
      return { outcome: "idempotency_mismatch", recordingId: previous.recordingId };
    }
    const replayed = await this.get(previous.recordingId);
    return replayed
      ? { outcome: "replayed", recording: replayed }
      : { outcome: "idempotency_mismatch", recordingId: previous.recordingId };
  }

  async get(id: string): Promise<Recording | undefined> {
    return (await this.read(id))?.recording;
  }

  /**
   * A stream output's whole URLs, stream keys included, for the calls to egress only: the ones
   * wanted now, and the ones removed since (UpdateStream names a URL to remove whole). Kept while
   * the recording is not final, then dropped with the move to a final state.
   */
  async streamUrlsOf(id: string): Promise<StreamUrl[]> {
    return parseStreamUrls(await this.redis.hget(this.keys.recording(id), STREAM_URLS_FIELD));
  }

  /** A recording's status alone (one small HGET, no document to parse); undefined when gone. */
  async statusOf(id: string): Promise<RecordingStatus | undefined> {
    const status = await this.redis.hget(this.keys.recording(id), "status");
    return status !== null && (STATUSES as readonly string[]).includes(status)
      ? (status as RecordingStatus)
      : undefined;
  }

  async getByEgressId(egressId: string): Promise<Recording | undefined> {
    const id = await this.redis.get(this.keys.egress(egressId));
    return id ? this.get(id) : undefined;
  }

  /** The recordings of a room in progress (of every kind and source), among its newest `limit`. */
  async inProgressIn(room: string, limit = 100): Promise<Recording[]> {
    const ids = await this.redis.zrange(this.keys.byRoom(room), "+", "-", "BYLEX", "REV", "LIMIT", 0, limit);
    const recordings = await Promise.all(ids.map((id) => this.get(id)));
    return recordings.filter(
      (recording): recording is Recording => !!recording && isInProgress(recording.status),
    );
  }

  /**
   * Moves a recording to `to` if the state machine allows it from its current status. An
   * illegal move (including one to the status it already has) changes nothing and says so.
   */
  transition(id: string, to: RecordingStatus, changes: TransitionChanges): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (!canTransition(current.status, to)) return undefined;
      if (changes.onlyFrom && !changes.onlyFrom.includes(current.status)) return undefined;
      const at = this.now().toISOString();
      const next: Recording = {
        ...current,
        status: to,
        updatedAt: at,
        timeline: [...current.timeline, { status: to, at, reason: changes.reason }],
      };
      if (changes.egressId !== undefined) next.egressId = changes.egressId;
      if (changes.output !== undefined && next.output === null) next.output = changes.output;
      if (changes.file !== undefined) next.file = changes.file;
      if (changes.artifacts !== undefined) next.artifacts = changes.artifacts;
      if (changes.streams && isNewer(changes.streams.asOf, current.streamsAsOf)) {
        next.streams = changes.streams.results;
        next.streamsAsOf = changes.streams.asOf;
      }
      if (changes.error !== undefined) next.error = changes.error;
      if (to === "active" && next.startedAt === null) next.startedAt = at;
      if (to === "saved" && next.expiresAt === null && next.expireDays !== null) {
        next.expiresAt = new Date(Date.parse(at) + next.expireDays * DAY_MS).toISOString();
      }
      if (!isInProgress(to) && next.endedAt === null && to !== "cancelled") next.endedAt = at;
      return next;
    });
  }

  /** Records the egress id of a starting recording without changing its status. */
  attachEgress(id: string, egressId: string, reason: string): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (current.egressId === egressId || isFinal(current.status)) return undefined;
      return this.note(current, reason, { egressId });
    });
  }

  /**
   * Changes the layout of a room composite that is still to start or recording; a no-op for
   * another source, one that is stopping or over, or the layout it already has.
   */
  changeLayout(id: string, layout: string, reason: string): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (current.source.type !== "room" || current.layout === layout) return undefined;
      if (!["queued", "starting", "active"].includes(current.status) || current.stopRequested)
        return undefined;
      return this.note(current, reason, { layout });
    });
  }

  /**
   * Egress' latest word on the recording's streams, without a change of status; the timeline
   * says what changed. Older news (an out-of-order webhook) and no news change nothing.
   */
  recordStreams(
    id: string,
    results: StreamResult[],
    asOf: string | null,
    source: string,
  ): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (!isNewer(asOf, current.streamsAsOf)) return undefined;
      if (JSON.stringify(results) === JSON.stringify(current.streams)) return undefined;
      const changed = results
        .filter((result, index) => {
          const before = current.streams[index];
          return (
            !before ||
            before.status !== result.status ||
            (before.startedAt === null) !== (result.startedAt === null)
          );
        })
        .map((result) => describeStream(result));
      const reason = `${changed.length > 0 ? changed.join("; ") : "streams updated"} (${source})`;
      return this.note(current, reason, { streams: results, streamsAsOf: asOf });
    });
  }

  /**
   * Adds and removes stream URLs of a recording in progress that has a stream output: the whole
   * URLs (kept apart) and their redacted forms (in the document) in one step. `remove` names
   * URLs by their redacted form. A no-op when nothing changes or the recording is not in progress.
   */
  changeStreams(
    id: string,
    change: { add: readonly string[]; remove: readonly string[] },
    redact: (url: string) => string,
    reason: string,
  ): Promise<TransitionResult> {
    return this.change(id, (current, entries) => {
      const output = current.outputs?.find((spec) => spec.type === "stream");
      if (!output || !isInProgress(current.status) || current.stopRequested) return undefined;
      const removed = new Set(change.remove);
      const next = entries.map((entry) =>
        entry.wanted && removed.has(redact(entry.url)) ? { ...entry, wanted: false } : entry,
      );
      for (const url of change.add) {
        const index = next.findIndex((entry) => entry.url === url);
        if (index >= 0) next[index] = { url, wanted: true };
        else next.push({ url, wanted: true });
      }
      const wanted = next.filter((entry) => entry.wanted).map((entry) => entry.url);
      const before = entries.filter((entry) => entry.wanted).map((entry) => entry.url);
      if (JSON.stringify(wanted) === JSON.stringify(before)) return undefined;
      // Removed URLs are only needed until egress dropped them: the oldest go beyond the cap.
      while (next.length > MAX_STREAM_URLS) {
        const oldest = next.findIndex((entry) => !entry.wanted);
        if (oldest < 0) break;
        next.splice(oldest, 1);
      }
      const recording = this.note(current, reason, {
        outputs: (current.outputs ?? []).map((spec) =>
          spec.type === "stream" ? { type: "stream" as const, urls: wanted.map(redact) } : spec,
        ),
      });
      return { recording, streamUrls: next };
    });
  }

  /** Marks that a stop was asked for while the start is in flight; the start handler honours it. */
  requestStop(id: string, reason: string): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (current.stopRequested || !isInProgress(current.status)) return undefined;
      return this.note(current, reason, { stopRequested: true });
    });
  }

  /**
   * Marks a recording for deletion (who asked, when); its files are removed once egress is done
   * with them. A no-op for one already deleted or marked.
   */
  requestDelete(
    id: string,
    by: { tenant: string; keyId: string },
    reason: string,
  ): Promise<TransitionResult> {
    return this.change(id, (current) => {
      if (current.deleteRequested !== null || current.status === "deleted") return undefined;
      return this.note(current, reason, { deleteRequested: { at: this.now().toISOString(), ...by } });
    });
  }

  /** Ids whose expiresAt has come, soonest first. */
  async dueForExpiry(nowMs: number, limit = 100): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.expiry, "-inf", nowMs, "LIMIT", 0, limit);
  }

  /** Ids of recordings whose deletion was asked for and is not done yet, oldest first. */
  idsPendingDeletion(limit = 100): Promise<string[]> {
    return this.oldestIds(this.keys.deleting, limit);
  }

  /** Forgets an id the sweeps found no record of (it expired from Redis after its retention). */
  async dropFromSweeps(id: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.expiry, id).zrem(this.keys.deleting, id).exec();
  }

  /** Adds a timeline entry (e.g. "egress fleet full, retrying in 4 s") without changing status. */
  annotate(id: string, reason: string): Promise<TransitionResult> {
    return this.change(id, (current) => this.note(current, reason, {}));
  }

  /** Whether an Idempotency-Key was claimed (and not yet expired or released). */
  async hasIdempotency(scope: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.idempotency(scope))) === 1;
  }

  /**
   * Closes an idempotency scope before or after the recording it guards: when nothing claimed it,
   * it is marked so that a later create with it makes nothing (an event that ended a session
   * arrived before the one that began it); when a recording did, answers its id.
   */
  async closeIdempotency(scope: string, ttlMs: number): Promise<{ recordingId: string } | { closed: true }> {
    const key = this.keys.idempotency(scope);
    const mark = JSON.stringify({ bodyHash: CLOSED_SCOPE, recordingId: "" });
    if ((await this.redis.set(key, mark, "PX", ttlMs, "NX")) === "OK") return { closed: true };
    const previous = JSON.parse((await this.redis.get(key)) ?? "{}") as { recordingId?: string };
    return previous.recordingId ? { recordingId: previous.recordingId } : { closed: true };
  }

  /** Keeps an idempotency scope for `ttlMs` more: its session is still seen. */
  async touchIdempotency(scope: string, ttlMs: number): Promise<void> {
    await this.redis.pexpire(this.keys.idempotency(scope), ttlMs);
  }

  /** Forgets an Idempotency-Key (after rolling back the recording it created), so a retry can use it. */
  async releaseIdempotency(scope: string): Promise<void> {
    await this.redis.del(this.keys.idempotency(scope));
  }

  /** Removes a recording and its index entries (used to roll back a create whose job was not queued). */
  async remove(id: string): Promise<void> {
    const recording = await this.get(id);
    if (!recording) return;
    await this.scripts.remove(
      [
        this.keys.recording(id),
        this.keys.active(recording.room, activeSlotOf(recording)),
        this.keys.byRoom(recording.room),
        this.keys.byStatus(recording.status),
        this.keys.all,
        recording.egressId ? this.keys.egress(recording.egressId) : "",
        this.keys.byTenant(recording.tenant),
        this.keys.byTenantStatus(recording.tenant, recording.status),
      ],
      [id],
    );
  }

  /**
   * Puts recordings written before tenants existed into the default tenant's indexes, once per
   * store (a marker remembers it); safe to run from several processes at once.
   */
  async backfillTenantIndexes(batchSize = 500): Promise<number> {
    if ((await this.redis.exists(this.keys.tenantIndexBackfilled)) === 1) return 0;
    let added = 0;
    let after: string | undefined;
    for (;;) {
      const ids = await this.redis.zrange(
        this.keys.all,
        after ? `(${after}` : "-",
        "+",
        "BYLEX",
        "LIMIT",
        0,
        batchSize,
      );
      if (ids.length === 0) break;
      added += await this.scripts.backfillTenant(
        [this.keys.byTenant(DEFAULT_TENANT)],
        [this.keys.recordingPrefix, this.keys.tenantStatusPrefix(DEFAULT_TENANT), ...ids],
      );
      after = ids[ids.length - 1];
      if (ids.length < batchSize) break;
    }
    await this.redis.set(this.keys.tenantIndexBackfilled, new Date().toISOString());
    return added;
  }

  /** Newest first, filtered by room and/or status, paginated with an opaque cursor. */
  async list(query: ListQuery): Promise<Page> {
    const { tenant, room, status } = query;
    // The narrowest index: a room's (shared by tenants: LiveKit rooms are), then the tenant's.
    const index = room
      ? this.keys.byRoom(room)
      : tenant !== undefined
        ? status
          ? this.keys.byTenantStatus(tenant, status)
          : this.keys.byTenant(tenant)
        : status
          ? this.keys.byStatus(status)
          : this.keys.all;
    // Records move between indexes while a page is read: every item is checked against the query.
    const keep = (recording: Recording) =>
      (status === undefined || recording.status === status) &&
      (tenant === undefined || recording.tenant === tenant) &&
      (room === undefined || recording.room === room);
    const items: Recording[] = [];
    let after = query.cursor ? decodeCursor(query.cursor) : undefined;
    let more = false;
    // Filtering by room and status reads the room index and skips other statuses: bounded rounds.
    rounds: for (let round = 0; round < 10; round += 1) {
      const batchSize = Math.max(query.limit - items.length, 10);
      const ids = await this.redis.zrange(
        index,
        after ? `(${after}` : "+",
        "-",
        "BYLEX",
        "REV",
        "LIMIT",
        0,
        batchSize,
      );
      for (const [position, id] of ids.entries()) {
        after = id;
        const recording = await this.get(id);
        if (!recording) {
          // Expired after its retention: drop the stale index entry.
          await this.redis.zrem(index, id);
          continue;
        }
        if (!keep(recording)) continue;
        items.push(recording);
        if (items.length === query.limit) {
          more = position < ids.length - 1 || ids.length === batchSize;
          break rounds;
        }
      }
      if (ids.length < batchSize) break;
      more = true;
    }
    // Resume after the last id looked at, whether it was returned or filtered out.
    return { items, nextCursor: more && after ? encodeCursor(after) : null };
  }

  /** Ids of recordings in a status, oldest first (for the reconciler). */
  idsInStatus(status: RecordingStatus, limit = 1000): Promise<string[]> {
    return this.oldestIds(this.keys.byStatus(status), limit);
  }

  /**
   * The oldest recording whose objects can still land and count: queued to stopped. Ids are
   * UUIDv7, ordered by creation time, and so are the keys of their objects: nothing older than
   * this one can still save a recording. Null when none waits.
   */
  async oldestAwaitingFiles(): Promise<string | null> {
    const pipeline = this.redis.pipeline();
    for (const status of AWAITING_FILES)
      pipeline.zrange(this.keys.byStatus(status), "-", "+", "BYLEX", "LIMIT", 0, 1);
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
    const firsts = results.flatMap(([, ids]) => (ids as string[]).slice(0, 1)).sort();
    return firsts[0] ?? null;
  }

  /** The first ids of an index of ids (score 0, ordered by id, so by creation time). */
  private oldestIds(index: string, limit: number): Promise<string[]> {
    return this.redis.zrange(index, "-", "+", "BYLEX", "LIMIT", 0, limit);
  }

  /** How many recordings are in each status (for metrics). */
  async countByStatus(): Promise<Record<RecordingStatus, number>> {
    const pipeline = this.redis.pipeline();
    for (const status of STATUSES) pipeline.zcard(this.keys.byStatus(status));
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
    return Object.fromEntries(STATUSES.map((status, i) => [status, Number(results[i]?.[1] ?? 0)])) as Record<
      RecordingStatus,
      number
    >;
  }

  private note(current: Recording, reason: string, patch: Partial<Recording>): Recording {
    const at = this.now().toISOString();
    return {
      ...current,
      ...patch,
      updatedAt: at,
      timeline: [...current.timeline, { status: current.status, at, reason }],
    };
  }

  private async read(id: string): Promise<{ recording: Recording; version: string } | undefined> {
    const [version, doc] = await this.redis.hmget(this.keys.recording(id), "v", "doc");
    if (version == null || doc == null) return undefined;
    return { recording: recordingSchema.parse(JSON.parse(doc)), version };
  }

  /** read(), with the stream URLs of the same version. */
  private async readWithStreams(
    id: string,
  ): Promise<{ recording: Recording; version: string; streamUrls: StreamUrl[] } | undefined> {
    const [version, doc, urls] = await this.redis.hmget(
      this.keys.recording(id),
      "v",
      "doc",
      STREAM_URLS_FIELD,
    );
    if (version == null || doc == null) return undefined;
    return { recording: recordingSchema.parse(JSON.parse(doc)), version, streamUrls: parseStreamUrls(urls) };
  }

  /**
   * Read, compute, compare-and-set; on a concurrent change, read again and recompute. `compute`
   * returns undefined when the change does not apply to the current state.
   */
  private async change(
    id: string,
    compute: (
      current: Recording,
      streamUrls: readonly StreamUrl[],
    ) => Recording | { recording: Recording; streamUrls: StreamUrl[] } | undefined,
  ): Promise<TransitionResult> {
    // Only a change of the stream URLs needs to read them (compute's second parameter).
    const withStreams = compute.length > 1;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      const current = withStreams ? await this.readWithStreams(id) : await this.read(id);
      if (!current) return { ok: false, reason: "not_found" };
      const computed = compute(
        current.recording,
        "streamUrls" in current ? (current.streamUrls as StreamUrl[]) : [],
      );
      if (!computed) return { ok: false, reason: "illegal", recording: current.recording };
      const next = "streamUrls" in computed ? computed.recording : computed;
      const streamUrls = "streamUrls" in computed ? JSON.stringify(computed.streamUrls) : "";
      const from = current.recording.status;
      const releaseActive = isInProgress(from) && !isInProgress(next.status);
      const newEgress = next.egressId !== null && next.egressId !== current.recording.egressId;
      const gone = next.status === "deleted" || next.status === "expired";
      const expiresAtMs = next.expiresAt === null ? null : Date.parse(next.expiresAt);
      // A record outlives its files' expiry (and then the retention), so the sweep can find them.
      const expireMs = !isFinal(next.status)
        ? 0
        : gone || expiresAtMs === null
          ? this.retentionMs
          : Math.max(this.retentionMs, expiresAtMs - this.now().getTime() + this.retentionMs);
      const expiry = gone
        ? "remove"
        : expiresAtMs !== null && current.recording.expiresAt === null
          ? "add"
          : "";
      const [outcome] = await this.scripts.update(
        [
          this.keys.recording(id),
          this.keys.byStatus(from),
          this.keys.byStatus(next.status),
          this.keys.active(next.room, activeSlotOf(next)),
          next.egressId ? this.keys.egress(next.egressId) : "",
          this.keys.byTenantStatus(next.tenant, from),
          this.keys.byTenantStatus(next.tenant, next.status),
          this.keys.expiry,
          this.keys.deleting,
          this.keys.events,
          this.keys.byRoom(next.room),
        ],
        [
          current.version,
          next.status,
          JSON.stringify(next),
          releaseActive ? "1" : "0",
          id,
          String(expireMs),
          newEgress || expireMs > 0 ? (next.egressId ?? "") : "",
          expiry,
          String(expiresAtMs ?? 0),
          next.status === "deleted"
            ? "remove"
            : next.deleteRequested !== null && current.recording.deleteRequested === null
              ? "add"
              : "",
          next.tenant,
          next.updatedAt,
          this.keys.recordingPrefix,
          streamUrls,
          ...(from === next.status ? [] : eventsOf(from, next.status, next.error?.code ?? null)),
        ],
      );
      if (outcome === "ok") return { ok: true, recording: next };
      if (outcome === "missing") return { ok: false, reason: "not_found" };
    }
    throw new Error(`recording ${id}: too many concurrent changes`);
  }
}

function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, "base64url").toString("utf8");
}

/** Whether stream results as of `asOf` may replace those as of `held` (null: unknown time). */
function isNewer(asOf: string | null, held: string | null): boolean {
  return held === null || (asOf !== null && asOf >= held);
}

function describeStream(result: StreamResult): string {
  if (result.status === "failed") return `stream ${result.url} failed: ${result.error ?? "no reason given"}`;
  if (result.status === "finished") return `stream ${result.url} finished`;
  return result.startedAt === null ? `stream ${result.url} added` : `stream ${result.url} is live`;
}
