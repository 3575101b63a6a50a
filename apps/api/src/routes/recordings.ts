import { mayEmail, type Tenant } from "@recfleet/config";
import { QUEUE } from "@recfleet/queues";
import {
  defaultFileFormat,
  defaultOutputs,
  type IdempotencyClaim,
  isInProgress,
  type NewRecording,
  type OutputSpec,
  outputOfType,
  type Recording,
  type RecordingKind,
  type RecordingSource,
  ROOM_SOURCE,
  redactStreamUrl,
} from "@recfleet/recordings";
import { type Response, Router } from "express";
import { callerOf, canSee, hasScope, requireScope } from "../http/auth.ts";
import { jsonBody } from "../http/body.ts";
import { serviceUnavailable } from "../http/dependency.ts";
import { methodNotAllowed } from "../http/errors.ts";
import { idempotencyClaim, idempotencyKeyOf } from "../http/idempotency.ts";
import { presentRecording, recordingUrl } from "../http/links.ts";
import { ProblemError } from "../http/problem.ts";
import {
  bodyFieldError,
  type CreateRecordingRequest,
  createRecordingRequestSchema,
  DEFAULT_PAGE_SIZE,
  listRecordingsQuerySchema,
  MAX_STREAM_URLS,
  parseOrThrow,
  stopRecordingRequestSchema,
  updateRecordingRequestSchema,
  validationProblem,
} from "../schemas.ts";
import type { RouteContext } from "./context.ts";
import { createRequestProblems } from "./create-checks.ts";
import { protocolOf, streamHostProblems, streamUrlsProblems } from "./stream-targets.ts";
import { loadVisible, notFound } from "./visible.ts";

const API_REASON = "through the API";

/** The request's source as the recording stores it. */
function sourceOf(source: CreateRecordingRequest["source"]): RecordingSource {
  if (!source || source.type === "room") return ROOM_SOURCE;
  switch (source.type) {
    case "participant":
      return { type: "participant", identity: source.identity, screenShare: source.screenShare };
    case "tracks":
      return {
        type: "tracks",
        audioTrackId: source.audioTrackId ?? null,
        videoTrackId: source.videoTrackId ?? null,
      };
    case "track":
      return { type: "track", trackId: source.trackId };
    case "web":
      return { type: "web", url: source.url, awaitStartSignal: source.awaitStartSignal };
  }
}

/** A requested output as the recording stores it, egress' defaults filled in. */
function outputOf(
  kind: RecordingKind,
  source: RecordingSource,
  output: NonNullable<CreateRecordingRequest["outputs"]>[number],
): OutputSpec {
  switch (output.type) {
    case "file":
      return { type: "file", format: output.format ?? defaultFileFormat(kind, source) };
    case "hls":
      return { type: "hls", segmentSeconds: output.segmentSeconds, livePlaylist: output.livePlaylist };
    case "images":
      return {
        type: "images",
        intervalSeconds: output.intervalSeconds,
        width: output.width ?? null,
        height: output.height ?? null,
      };
    case "stream":
      // The whole URLs go to the store's stream URL field (NewRecording.streamUrls), never here.
      return { type: "stream", urls: output.urls.map(redactStreamUrl) };
  }
}

/** What a conflicting recording holds, in words. */
function heldBy(input: NewRecording): string {
  const { source } = input;
  if (!source || source.type === "room") return `Room "${input.room}" has a ${input.kind} recording`;
  switch (source.type) {
    case "participant":
      return `Participant "${source.identity}" of room "${input.room}" has a recording`;
    case "tracks":
      return `These tracks of room "${input.room}" have a recording`;
    case "track":
      return `Track ${source.trackId} of room "${input.room}" has a recording`;
    case "web":
      return `The page ${source.url} has a ${input.kind} recording filed under room "${input.room}"`;
  }
}

function notInProgress(recording: Recording): ProblemError {
  return new ProblemError("recording-not-in-progress", {
    detail: `Recording ${recording.id} is ${recording.status}: there is nothing to stop.`,
    extensions: { recording: { id: recording.id, status: recording.status } },
  });
}

/** A PATCH of a recording that can no longer change `what` (its layout, its streams). */
function notChanging(recording: Recording, what: string): ProblemError {
  const { id, status, stopRequested } = recording;
  return new ProblemError("recording-not-in-progress", {
    detail: `Recording ${id} is ${stopRequested ? "stopping" : status}: its ${what} can no longer change.`,
    extensions: { recording: { id, status } },
  });
}

function stopAlreadyRequested(recording: Recording): ProblemError {
  return new ProblemError("stop-already-requested", {
    detail: `A stop of recording ${recording.id} was already requested; it is ${recording.status}.`,
    extensions: { recording: { id: recording.id, status: recording.status } },
  });
}

/** The tenant's recipient-domain allow-list (subdomains included): refuses any other address. */
function assertRecipientAllowed(tenant: Tenant, email: string): void {
  if (mayEmail(tenant, email)) return;
  const domains = tenant.recipientDomains ?? [];
  throw new ProblemError("recipient-not-allowed", {
    detail: `Tenant "${tenant.name}" may email addresses at ${domains.join(", ")} only.`,
    errors: [
      {
        location: "body",
        field: "notify.email",
        pointer: "/notify/email",
        message: `must be an address at ${domains.join(", ")}`,
      },
    ],
  });
}

/** POST/GET /v1/recordings, GET/PATCH/DELETE /v1/recordings/:id, POST /v1/recordings/:id/stop. */
export function recordingRoutes(ctx: RouteContext): Router {
  const { api, logger, store, producer, profiles, encoding, work, links, limits, expireDays, streamTargets } =
    ctx;
  const router = Router();

  const respond = (res: Response, status: number, recording: Recording) => {
    const body = presentRecording(links, recording);
    res.status(status).location(body.links.self).json(body);
  };

  const load = (res: Response, id: string) => loadVisible(ctx, res, id);

  /**
   * Undoes a create whose start job could not be queued, so that no recording exists that
   * nothing will start. If even this fails, the recording stays queued and the recorder's
   * reconciler re-enqueues its start job (the job id derived from the recording makes it safe).
   */
  const rollBack = async (
    recording: Recording,
    claim: IdempotencyClaim | undefined,
    cause: unknown,
  ): Promise<boolean> => {
    try {
      await work(store.remove(recording.id), "rolling back the recording");
    } catch (error) {
      logger.error(
        { recordingId: recording.id, err: { message: (error as Error).message } },
        "start job not queued and rollback failed: the reconciler will queue the start job",
      );
      return false;
    }
    logger.warn(
      { recordingId: recording.id, err: { message: (cause as Error).message } },
      "start job not queued: recording rolled back",
    );
    if (claim) {
      // The key must not keep pointing at the removed recording: a retry with it creates afresh.
      await work(store.releaseIdempotency(claim.scope), "releasing the key").catch((error: unknown) =>
        logger.warn(
          { recordingId: recording.id, err: { message: (error as Error).message } },
          "could not release the Idempotency-Key of a rolled back recording; a retry with it gets 422",
        ),
      );
    }
    return true;
  };

  const enqueueStart = (recording: Recording) =>
    work(producer.enqueue("start", { recordingId: recording.id }), "queueing the start job");

  /**
   * Asks a started recording to stop: queues its stop job, then marks it stopRequested (with
   * `why` on the timeline). The job first, so that a mark never stands without a job to act on it.
   */
  const queueStop = async (id: string, reason: string | undefined) => {
    await work(
      producer.enqueue("stop", { recordingId: id, ...(reason ? { reason } : {}) }),
      "queueing the stop job",
    );
    return work(
      store.requestStop(id, `stop requested ${API_REASON}${reason ? `: ${reason}` : ""}`),
      "recording the stop request",
    );
  };

  /**
   * Takes the start job of a cancelled recording off the queue. A job a recorder already holds
   * cannot be removed: a stop job follows it (the recorder handles a stop racing a start). The
   * recording is cancelled either way, so a failure here is logged, not answered.
   */
  const removeStartJob = async (recordingId: string, reason: string | undefined) => {
    const jobId = producer.jobIdOf("start", { recordingId }) ?? "";
    try {
      const removed = await work(producer.queue(QUEUE.control).remove(jobId), "removing the start job");
      if (removed === 0) {
        await work(
          producer.enqueue("stop", { recordingId, ...(reason ? { reason } : {}) }),
          "queueing the stop job",
        );
        logger.info({ recordingId, jobId }, "start job already taken by a recorder: stop job queued");
      }
    } catch (error) {
      logger.warn(
        { recordingId, jobId, err: { message: (error as Error).message } },
        "could not remove the start job of a cancelled recording; the recorder will skip it",
      );
    }
  };

  /**
   * PATCH streams: checks the URLs as a create does, records the change (the whole URLs apart,
   * the redacted ones in the document) and queues the update-stream job that tells egress.
   */
  const changeStreams = async (
    recording: Recording,
    current: readonly string[],
    change: { add: string[]; remove: string[] },
  ): Promise<Recording> => {
    if (!isInProgress(recording.status) || recording.stopRequested) throw notChanging(recording, "streams");
    // A removal names a URL as the recording shows it; a whole URL is redacted to match.
    const remove = change.remove.map((url) => (current.includes(url) ? url : redactStreamUrl(url)));
    const kept = current.filter((url) => !remove.includes(url));
    const protocol = current[0] === undefined ? undefined : protocolOf(current[0]);
    // Adding a URL it already streams to changes nothing; another one shown the same is refused.
    const streamed = (await work(store.streamUrlsOf(recording.id), "reading the stream URLs"))
      .filter((entry) => entry.wanted)
      .map((entry) => entry.url);
    const readded = new Set(change.add.filter((url) => streamed.includes(url)).map(redactStreamUrl));
    const errors = [
      ...streamUrlsProblems(
        change.add,
        "streams.add",
        kept.filter((url) => !readded.has(url)),
        protocol,
      ),
      ...remove.flatMap((url, index) =>
        current.includes(url)
          ? []
          : [
              bodyFieldError(
                `streams.remove.${index}`,
                "is not one of the recording's stream URLs (outputs[].urls)",
              ),
            ],
      ),
    ];
    const total = new Set([...kept, ...change.add.map(redactStreamUrl)]).size;
    if (errors.length === 0 && total === 0) {
      errors.push(
        bodyFieldError("streams.remove", "would remove every stream URL: stop the recording instead"),
      );
    }
    if (errors.length === 0 && total > MAX_STREAM_URLS) {
      errors.push(bodyFieldError("streams.add", `would stream to more than ${MAX_STREAM_URLS} URLs`));
    }
    if (errors.length > 0) throw validationProblem(errors);
    const hostErrors = await streamHostProblems(change.add, "streams.add", streamTargets);
    if (hostErrors.length > 0) throw validationProblem(hostErrors);
    const added = change.add.map(redactStreamUrl);
    const described = [...added.map((url) => `+${url}`), ...remove.map((url) => `-${url}`)].join(", ");
    const changed = await work(
      store.changeStreams(
        recording.id,
        { add: change.add, remove },
        redactStreamUrl,
        `streams ${described} ${API_REASON}`,
      ),
      "changing the streams",
    );
    if (!changed.ok && changed.reason === "not_found") throw notFound(recording.id);
    const now = changed.recording;
    if (!changed.ok && !(isInProgress(now.status) && !now.stopRequested)) throw notChanging(now, "streams");
    // Queued even when the URLs were already as asked: that is a client retrying a change whose
    // job could not be queued. Its job id (from updatedAt) is then the first one's, so a job
    // that exists is not queued twice, and the handler compares with egress anyway.
    await work(
      producer.enqueue("update-stream", {
        recordingId: recording.id,
        add: added,
        remove,
        requestedAtMs: Date.parse(now.updatedAt),
      }),
      "queueing the stream change",
    );
    return now;
  };

  router
    .route("/v1/recordings")
    .post(
      requireScope("recordings:write"),
      ...jsonBody(api.bodyLimit, { required: true }),
      async (req, res) => {
        const { tenant } = callerOf(res);
        const key = idempotencyKeyOf(req);
        const body = parseOrThrow(createRecordingRequestSchema, req.body, "body");
        const requestErrors = createRequestProblems(body, encoding);
        if (requestErrors.length > 0) throw validationProblem(requestErrors);
        const streamIndex = body.outputs?.findIndex((output) => output.type === "stream") ?? -1;
        const streamOutput = body.outputs?.[streamIndex];
        const streamUrls = streamOutput?.type === "stream" ? streamOutput.urls : [];
        const hostErrors = await streamHostProblems(streamUrls, `outputs.${streamIndex}.urls`, streamTargets);
        if (hostErrors.length > 0) throw validationProblem(hostErrors);
        if (body.notify) assertRecipientAllowed(tenant, body.notify.email);
        const source = sourceOf(body.source);
        // A track is recorded as published: no profile applies (createRequestProblems refuses one).
        const profile = source.type === "track" ? null : (body.profile ?? profiles.defaultName);
        if (profile !== null && !profiles.get(profile)) {
          throw new ProblemError("unknown-profile", {
            detail: `There is no encoding profile "${profile}"; known profiles: ${profiles.names.join(", ")}.`,
            errors: [
              {
                location: "body",
                field: "profile",
                pointer: "/profile",
                message: `must be one of ${profiles.names.join(", ")}`,
              },
            ],
            extensions: { validProfiles: profiles.names },
          });
        }
        const days = tenant.expireDays ?? (expireDays > 0 ? expireDays : undefined);
        const input: NewRecording = {
          tenant: tenant.name,
          ...(days !== undefined ? { expireDays: days } : {}),
          room: body.room,
          kind: body.kind,
          source,
          outputs: body.outputs
            ? body.outputs.map((output) => outputOf(body.kind, source, output))
            : defaultOutputs(body.kind, source),
          profile,
          layout: body.layout ?? profiles.defaultLayout,
          encoding: body.encoding && Object.keys(body.encoding).length > 0 ? body.encoding : null,
          customBaseUrl: body.customBaseUrl ?? null,
          notify: body.notify ?? null,
          metadata: body.metadata ?? null,
          ...(body.roomWaitSeconds !== undefined ? { roomWaitSeconds: body.roomWaitSeconds } : {}),
          ...(streamUrls.length > 0 ? { streamUrls } : {}),
        };
        // Scoped by tenant, not by key: a retry after a key rotation still finds its recording.
        const claim = key ? idempotencyClaim(tenant.name, key, req.body) : undefined;
        // A retry of a request already made is answered from its first answer: it takes no unit
        // (else a client retrying at its limit would get 429 for a recording that exists).
        const retry = claim ? await work(store.hasIdempotency(claim.scope), "reading the key") : false;
        const giveBack = retry
          ? async () => undefined
          : await limits.takeTenantUnits(
              tenant,
              body.notify ? ["recordingsPerHour", "emailsPerHour"] : ["recordingsPerHour"],
            );
        const concurrencyLimit = tenant.limits.concurrentRecordings ?? undefined;
        let result: Awaited<ReturnType<typeof store.create>>;
        try {
          result = await work(
            store.create(input, {
              ...(claim ? { idempotency: claim } : {}),
              ...(concurrencyLimit ? { concurrencyLimit } : {}),
            }),
            "creating the recording",
          );
        } catch (error) {
          await giveBack().catch(() => undefined);
          throw error;
        }
        if (result.outcome !== "created") await giveBack();
        switch (result.outcome) {
          case "conflict": {
            const existing = result.existing;
            if (!canSee(callerOf(res), existing)) {
              // LiveKit rooms are shared by every tenant; which recording holds this one is not theirs to know.
              throw new ProblemError("recording-in-progress", {
                detail: `${heldBy(input)} already in progress, made by another API consumer.`,
              });
            }
            throw new ProblemError("recording-in-progress", {
              detail: `${heldBy(input)} already in progress: ${existing.id} (${existing.status}).`,
              extensions: {
                existing: {
                  id: existing.id,
                  status: existing.status,
                  links: { self: recordingUrl(links, existing.id) },
                },
              },
            });
          }
          case "concurrency_limit":
            throw new ProblemError("rate-limited", {
              detail: `Tenant "${tenant.name}" may have ${result.limit} recordings in progress at once; stop one or retry when one ends.`,
              headers: { "Retry-After": "30" },
              extensions: { limit: { name: "concurrentRecordings", value: result.limit } },
            });
          case "idempotency_mismatch":
            throw new ProblemError("idempotency-key-reused", {
              detail:
                "This Idempotency-Key was used in the last 24 hours with a different body; use a new key for a new request.",
              errors: [
                {
                  location: "header",
                  field: "Idempotency-Key",
                  message: "already used with a different request body",
                },
              ],
            });
          case "replayed":
            // Queueing again is a no-op for a queued job and heals a create whose enqueue was lost.
            if (result.recording.status === "queued") await enqueueStart(result.recording);
            res.setHeader("Idempotent-Replayed", "true");
            return respond(res, 202, result.recording);
          case "created": {
            try {
              await enqueueStart(result.recording);
            } catch (error) {
              const rolledBack = await rollBack(result.recording, claim, error);
              // Anything but an unreachable Redis is a bug: let it be the 500 it is.
              if (!(error instanceof ProblemError && error.status === 503)) throw error;
              throw serviceUnavailable(
                rolledBack
                  ? "The start job could not be queued, so the recording was not created; retry shortly."
                  : `The start job could not be queued; recording ${result.recording.id} stays queued and will be started once Redis is back.`,
              );
            }
            logger.info(
              {
                recordingId: result.recording.id,
                tenant: tenant.name,
                room: input.room,
                kind: input.kind,
                profile,
              },
              "recording queued",
            );
            return respond(res, 202, result.recording);
          }
        }
      },
    )
    .get(requireScope("recordings:read"), async (req, res) => {
      const caller = callerOf(res);
      const query = parseOrThrow(listRecordingsQuerySchema, req.query, "query");
      const admin = hasScope(caller, "admin");
      if (query.tenant !== undefined && !admin) {
        throw new ProblemError("forbidden", {
          detail:
            "Only keys with the admin scope may list by tenant; other keys list their own tenant's recordings.",
        });
      }
      const tenant = admin ? query.tenant : caller.tenant.name;
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const page = await work(
        store.list({
          limit,
          ...(tenant !== undefined ? { tenant } : {}),
          ...(query.room !== undefined ? { room: query.room } : {}),
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        }),
        "listing recordings",
      );
      const pageUrl = (cursor?: string) => {
        const params = new URLSearchParams();
        if (query.tenant !== undefined) params.set("tenant", query.tenant);
        if (query.room !== undefined) params.set("room", query.room);
        if (query.status !== undefined) params.set("status", query.status);
        params.set("limit", String(limit));
        if (cursor) params.set("cursor", cursor);
        return `${links}/v1/recordings?${params}`;
      };
      res.json({
        items: page.items.map((recording) => presentRecording(links, recording)),
        nextCursor: page.nextCursor,
        links: { self: pageUrl(query.cursor), next: page.nextCursor ? pageUrl(page.nextCursor) : null },
      });
    })
    .all(methodNotAllowed(["GET", "POST"]));

  router
    .route("/v1/recordings/:id")
    .get(requireScope("recordings:read"), async (req, res) => {
      respond(res, 200, await load(res, req.params.id));
    })
    .patch(
      requireScope("recordings:write"),
      ...jsonBody(api.bodyLimit, { required: true }),
      async (req, res) => {
        const body = parseOrThrow(updateRecordingRequestSchema, req.body, "body");
        let recording = await load(res, req.params.id);
        const output = outputOfType(recording, "stream");
        const errors = [
          ...(body.layout !== undefined && recording.source.type !== "room"
            ? [bodyFieldError("layout", "applies to a room source only")]
            : []),
          ...(body.streams && !output
            ? [bodyFieldError("streams", "applies to a recording with a stream output")]
            : []),
        ];
        if (errors.length > 0) throw validationProblem(errors);
        if (body.layout !== undefined) {
          if (recording.layout !== body.layout || !isInProgress(recording.status)) {
            const changed = await work(
              store.changeLayout(recording.id, body.layout, `layout changed to ${body.layout} ${API_REASON}`),
              "changing the layout",
            );
            if (!changed.ok) {
              if (changed.reason === "not_found") throw notFound(recording.id);
              throw notChanging(changed.recording, "layout");
            }
            recording = changed.recording;
          }
          // Queued for a repeat too: a client retrying a change whose job could not be queued.
          // Its id (from updatedAt) is then the first job's, so an existing job is not doubled.
          await work(
            producer.enqueue("update-layout", {
              recordingId: recording.id,
              requestedAtMs: Date.parse(recording.updatedAt),
            }),
            "queueing the layout change",
          );
        }
        if (body.streams && output) recording = await changeStreams(recording, output.urls, body.streams);
        return respond(res, 202, recording);
      },
    )
    .delete(requireScope("recordings:write"), async (req, res) => {
      const caller = callerOf(res);
      let recording = await load(res, req.params.id);
      const id = recording.id;
      if (recording.status === "deleted") return respond(res, 200, recording);
      if (recording.deleteRequested === null) {
        const marked = await work(
          store.requestDelete(
            id,
            { tenant: caller.tenant.name, keyId: caller.keyId },
            `deletion requested ${API_REASON} by tenant ${caller.tenant.name}`,
          ),
          "recording the deletion request",
        );
        if (!marked.ok && marked.reason === "not_found") throw notFound(id);
        recording = marked.ok || marked.reason === "illegal" ? marked.recording : recording;
      }
      if (isInProgress(recording.status) && !recording.stopRequested) {
        // The stop job cancels a queued recording and stops a running egress; the delete job
        // waits until egress is done with the files, then removes them.
        const stopped = await queueStop(id, "deleted");
        if (stopped.ok) recording = stopped.recording;
      }
      await work(producer.enqueue("delete", { recordingId: id }), "queueing the delete job");
      logger.info(
        { recordingId: id, tenant: caller.tenant.name, status: recording.status },
        "recording deletion requested",
      );
      return respond(res, 202, recording);
    })
    .all(methodNotAllowed(["GET", "PATCH", "DELETE"]));

  router
    .route("/v1/recordings/:id/stop")
    .post(
      requireScope("recordings:write"),
      ...jsonBody(api.bodyLimit, { required: false }),
      async (req, res) => {
        const body = parseOrThrow(stopRecordingRequestSchema, req.body, "body");
        let recording = await load(res, req.params.id);
        const id = recording.id;
        const why = body.reason ? `: ${body.reason}` : "";
        if (!isInProgress(recording.status)) throw notInProgress(recording);
        if (recording.stopRequested) throw stopAlreadyRequested(recording);

        if (recording.status === "queued") {
          // Cancel first: once cancelled, a start job a recorder still picks up changes nothing.
          const cancelled = await work(
            store.transition(id, "cancelled", { reason: `cancelled ${API_REASON} before it started${why}` }),
            "cancelling the recording",
          );
          if (cancelled.ok) {
            await removeStartJob(id, body.reason);
            return respond(res, 202, cancelled.recording);
          }
          if (cancelled.reason === "not_found") throw notFound(id);
          // A recorder took it meanwhile: stop it like a running one.
          recording = cancelled.recording;
          if (!isInProgress(recording.status)) throw notInProgress(recording);
        }

        const marked = await queueStop(id, body.reason);
        if (marked.ok) return respond(res, 202, marked.recording);
        if (marked.reason === "not_found") throw notFound(id);
        // Not applied: another API stop marked it between our read and now (two stops at once),
        // or the stop job just queued already acted (the recorder marked the stop, cancelled or
        // stopped the recording) — then this request is what did it.
        const byAnotherRequest = marked.recording.timeline.some((entry) =>
          entry.reason.startsWith(`stop requested ${API_REASON}`),
        );
        if (byAnotherRequest) throw stopAlreadyRequested(marked.recording);
        return respond(res, 202, marked.recording);
      },
    )
    .all(methodNotAllowed(["POST"]));

  return router;
}
