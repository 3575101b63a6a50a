import {
  EgressInfo,
  EgressSourceType,
  EgressStatus,
  FileInfo,
  type ListEgressRequest,
  type RoomCompositeEgressRequest,
} from "@livekit/protocol";
import type { Logger } from "@recfleet/runtime";
import {
  type EncodingPlan,
  type FileFormat,
  invalidInput,
  planEncoding,
  resolveFileFormat,
  totalBitrateKbps,
} from "./encoding.ts";
import type { EgressFaults } from "./faults.ts";
import { redactedRequest, resolveFilename, selectFileOutput } from "./file-output.ts";
import { newId, nowNanos } from "./ids.ts";
import { generatePayload, payloadSize } from "./payload.ts";
import { isActiveStatus, statusName } from "./status.ts";
import {
  type DefaultStorage,
  type S3Target,
  targetFromDefault,
  targetFromRequest,
  uploadObject,
} from "./storage.ts";
import { TwirpError } from "./twirp.ts";
import type { EgressEventName } from "./webhooks.ts";

export type UploadOutcome = "pending" | "uploaded" | "failed" | "kept-locally";

/** What happened to an egress' file, for the admin listing. */
export interface UploadRecord {
  outcome: UploadOutcome;
  bucket?: string;
  key: string;
  location?: string;
  contentType: string;
  bytes: number;
  error?: string;
}

interface EgressRun {
  info: EgressInfo;
  plan: EncodingPlan;
  format: FileFormat;
  /** The one FileInfo that `file_results[0]` and the deprecated `file` result both show. */
  file: FileInfo;
  /** Where the file goes, credentials included (EgressInfo only carries a redacted copy). */
  target: S3Target | null;
  /** The egress' handler is alive: not yet ended, or still finishing its upload. */
  running: boolean;
  /** Its instance died: nothing about it changes any more. */
  crashed: boolean;
  activeSinceMs: number | null;
  plannedFault: "fail" | "crash" | null;
  timers: Set<NodeJS.Timeout>;
  upload: UploadRecord | null;
}

export interface FleetSettings {
  faults: () => EgressFaults;
  payloadCapBytes: number;
  uploadTimeoutMs: number;
  defaultStorage: DefaultStorage | null;
  notify: (event: EgressEventName, info: EgressInfo) => void;
  logger: Logger;
}

export interface FailOptions {
  error?: string;
  /** EgressInfo.error_code; defaults to 503, what egress reports for a lost room connection. */
  errorCode?: number;
}

/** An egress in the admin listing: the EgressInfo as ListEgress returns it, plus what is hidden. */
export interface EgressSnapshot {
  info: Record<string, unknown>;
  running: boolean;
  crashed: boolean;
  bitrateKbps: number;
  upload: UploadRecord | null;
}

export class EgressAdminError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "EgressAdminError";
    this.status = status;
  }
}

// What egress writes in EgressInfo.details (SetEndReason) and EgressInfo.error.
const END_REASON = {
  api: "End reason: StopEgress API",
  limit: "End reason: Session limit reached",
  failure: "End reason: Failure",
} as const;
const MSG_STOPPED_BEFORE_STARTED = "Stop called before pipeline could start";
const MSG_LIMIT_REACHED = "Session limit reached";

/** snake_case, every default emitted: how livekit-server's Twirp JSON marshaller writes messages. */
export const WIRE_JSON = { useProtoFieldName: true, emitDefaultValues: true } as const;

/**
 * The egress instances behind the API: admission, the STARTING → ACTIVE → ENDING → COMPLETE
 * lifecycle with its timers, uploads, and the faults that bend it.
 */
export class EgressFleet {
  private readonly settings: FleetSettings;
  private readonly runs = new Map<string, EgressRun>();
  private readonly roomIds = new Map<string, string>();
  private readonly finishing = new Set<Promise<void>>();
  private pendingFails = 0;
  private pendingCrashes = 0;

  constructor(settings: FleetSettings) {
    this.settings = settings;
  }

  /** Arms the "next N egresses" faults; a count left out keeps its current value. */
  armNextFaults(counts: { failNext?: number | undefined; crashNext?: number | undefined }): void {
    if (counts.failNext !== undefined) this.pendingFails = counts.failNext;
    if (counts.crashNext !== undefined) this.pendingCrashes = counts.crashNext;
  }

  pendingNextFaults(): { failNext: number; crashNext: number } {
    return { failNext: this.pendingFails, crashNext: this.pendingCrashes };
  }

  /** StartRoomCompositeEgress after authorization: admission, validation, then a new egress. */
  start(request: RoomCompositeEgressRequest): EgressInfo {
    // Admission comes first: with no instance free, psrpc gets no answer at all, valid or not.
    const { capacity } = this.settings.faults();
    if (capacity !== null && this.liveCount() >= capacity) {
      throw new TwirpError("unavailable", "no response from servers");
    }
    const plan = planEncoding(request);
    const output = selectFileOutput(request);
    if (request.roomName === "") throw invalidInput("room_name");
    const format = resolveFileFormat(output.fileType, plan);

    const egressId = newId("EG_");
    const roomId = this.roomId(request.roomName);
    const filename = resolveFilename(output.filepath, format, {
      roomName: request.roomName,
      roomId,
      now: new Date(),
    });
    const file = new FileInfo({ filename });
    const info = new EgressInfo({
      egressId,
      roomId,
      roomName: request.roomName,
      sourceType: EgressSourceType.WEB,
      status: EgressStatus.EGRESS_STARTING,
      updatedAt: nowNanos(),
      request: { case: "roomComposite", value: redactedRequest(request) },
      fileResults: [file],
      result: { case: "file", value: file },
    });
    let target: S3Target | null = null;
    if (output.output.case === "s3") target = targetFromRequest(output.output.value);
    else if (this.settings.defaultStorage) target = targetFromDefault(this.settings.defaultStorage);

    const run: EgressRun = {
      info,
      plan,
      format,
      file,
      target,
      running: true,
      crashed: false,
      activeSinceMs: null,
      plannedFault: this.takePlannedFault(),
      timers: new Set(),
      upload: null,
    };
    this.runs.set(egressId, run);
    this.settings.logger.info(
      { egressId, roomName: request.roomName, filename, plannedFault: run.plannedFault },
      "egress starting",
    );
    this.emit(run, "egress_started");
    this.after(run, this.settings.faults().activationDelayMs, () => this.activate(run));
    return info.clone();
  }

  stop(egressId: string): EgressInfo {
    const run = this.runs.get(egressId);
    if (!run) throw new TwirpError("not_found", "egress does not exist");
    const { status } = run.info;
    if (run.crashed) {
      // livekit-server gets no answer from the dead instance; it only explains the ones that ended.
      if (status === EgressStatus.EGRESS_STARTING || status === EgressStatus.EGRESS_ACTIVE) {
        throw new TwirpError("deadline_exceeded", "request timed out");
      }
      throw cannotStop(status);
    }
    if (!run.running) throw cannotStop(status);
    if (status === EgressStatus.EGRESS_STARTING) {
      this.clearTimers(run);
      run.info.details = END_REASON.api;
      this.end(run, EgressStatus.EGRESS_ABORTED, MSG_STOPPED_BEFORE_STARTED, 412);
    } else if (status === EgressStatus.EGRESS_ACTIVE) {
      this.clearTimers(run);
      run.info.details = END_REASON.api;
      this.setStatus(run, EgressStatus.EGRESS_ENDING);
      this.emit(run, "egress_updated");
      this.finish(run, EgressStatus.EGRESS_COMPLETE);
    }
    // ENDING, or LIMIT_REACHED still uploading: egress ignores a second end of stream.
    return run.info.clone();
  }

  list(request: ListEgressRequest): EgressInfo[] {
    if (request.egressId !== "") {
      const run = this.runs.get(request.egressId);
      if (!run) throw new TwirpError("not_found", "egress does not exist");
      return [run.info.clone()];
    }
    return [...this.runs.values()]
      .filter((run) => request.roomName === "" || run.info.roomName === request.roomName)
      .filter((run) => !request.active || isActiveStatus(run.info.status))
      .map((run) => run.info.clone());
  }

  /** Makes a running egress fail now, as a pipeline error would. */
  fail(egressId: string, options: FailOptions = {}): EgressInfo {
    const run = this.requireRunning(egressId);
    this.failRun(run, options.error ?? this.settings.faults().failError, options.errorCode ?? 503);
    return run.info.clone();
  }

  /** Kills the egress' instance: its status freezes, no webhook follows, its file is lost. */
  crash(egressId: string): EgressInfo {
    const run = this.requireRunning(egressId);
    this.crashRun(run);
    return run.info.clone();
  }

  snapshots(): EgressSnapshot[] {
    return [...this.runs.values()].map((run) => this.snapshot(run));
  }

  snapshot(run: EgressRun): EgressSnapshot {
    return {
      info: run.info.toJson(WIRE_JSON) as Record<string, unknown>,
      running: run.running,
      crashed: run.crashed,
      bitrateKbps: totalBitrateKbps(run.plan),
      upload: run.upload ? { ...run.upload } : null,
    };
  }

  find(egressId: string): EgressSnapshot | undefined {
    const run = this.runs.get(egressId);
    return run ? this.snapshot(run) : undefined;
  }

  /** Resolves when no upload is in flight. */
  async idle(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all([...this.finishing]);
  }

  /** Forgets every egress; uploads in flight finish but change nothing. */
  reset(): void {
    for (const run of this.runs.values()) {
      this.clearTimers(run);
      run.running = false;
    }
    this.runs.clear();
    this.roomIds.clear();
  }

  private liveCount(): number {
    let count = 0;
    for (const run of this.runs.values()) if (run.running && !run.crashed) count += 1;
    return count;
  }

  private roomId(roomName: string): string {
    let id = this.roomIds.get(roomName);
    if (!id) {
      id = newId("RM_");
      this.roomIds.set(roomName, id);
    }
    return id;
  }

  private takePlannedFault(): EgressRun["plannedFault"] {
    if (this.pendingCrashes > 0) {
      this.pendingCrashes -= 1;
      return "crash";
    }
    if (this.pendingFails > 0) {
      this.pendingFails -= 1;
      return "fail";
    }
    return null;
  }

  private requireRunning(egressId: string): EgressRun {
    const run = this.runs.get(egressId);
    if (!run) throw new EgressAdminError(404, `no egress ${egressId}`);
    if (run.crashed) throw new EgressAdminError(409, `egress ${egressId} has already crashed`);
    if (!run.running) {
      throw new EgressAdminError(
        409,
        `egress ${egressId} has already ended (${statusName(run.info.status)})`,
      );
    }
    return run;
  }

  private activate(run: EgressRun): void {
    if (!run.running || run.crashed || run.info.status !== EgressStatus.EGRESS_STARTING) return;
    const now = nowNanos();
    run.activeSinceMs = Date.now();
    run.info.startedAt = now;
    run.file.startedAt = now;
    this.setStatus(run, EgressStatus.EGRESS_ACTIVE);
    this.settings.logger.info({ egressId: run.info.egressId }, "egress active");
    this.emit(run, "egress_updated");
    const faults = this.settings.faults();
    if (run.plannedFault === "crash") {
      this.crashRun(run);
      return;
    }
    if (run.plannedFault === "fail") {
      this.after(run, faults.failAfterMs, () => this.failRun(run, faults.failError, 503));
    }
    if (faults.maxDurationMs !== null) this.after(run, faults.maxDurationMs, () => this.limitReached(run));
  }

  private limitReached(run: EgressRun): void {
    if (!run.running || run.crashed || run.info.status !== EgressStatus.EGRESS_ACTIVE) return;
    this.clearTimers(run);
    run.info.details = END_REASON.limit;
    run.info.error = MSG_LIMIT_REACHED;
    run.info.errorCode = 413;
    run.info.endedAt = nowNanos();
    this.setStatus(run, EgressStatus.EGRESS_LIMIT_REACHED);
    this.settings.logger.info({ egressId: run.info.egressId }, "egress reached its duration limit");
    this.finish(run, EgressStatus.EGRESS_LIMIT_REACHED);
  }

  private failRun(run: EgressRun, error: string, errorCode: number): void {
    if (!run.running || run.crashed) return;
    this.clearTimers(run);
    run.info.details = END_REASON.failure;
    this.settings.logger.info({ egressId: run.info.egressId, error }, "egress failed");
    this.end(run, EgressStatus.EGRESS_FAILED, error, errorCode);
  }

  private crashRun(run: EgressRun): void {
    this.clearTimers(run);
    run.crashed = true;
    this.settings.logger.info(
      { egressId: run.info.egressId, status: statusName(run.info.status) },
      "egress instance crashed",
    );
  }

  /** Ends the recording: the file is written and uploaded, then the egress reports its end. */
  private finish(run: EgressRun, endStatus: EgressStatus): void {
    const endedAt = nowNanos();
    const activeMs = run.activeSinceMs === null ? 0 : Date.now() - run.activeSinceMs;
    run.file.endedAt = endedAt;
    run.file.duration = run.file.startedAt > 0n ? endedAt - run.file.startedAt : 0n;
    const size = payloadSize(totalBitrateKbps(run.plan), activeMs, this.settings.payloadCapBytes);
    const upload: UploadRecord = {
      outcome: "pending",
      key: run.file.filename,
      contentType: run.format.contentType,
      bytes: size,
      ...(run.target ? { bucket: run.target.bucket } : {}),
    };
    run.upload = upload;
    const done = this.writeFile(run, upload, endStatus).finally(() => this.finishing.delete(done));
    this.finishing.add(done);
  }

  private async writeFile(run: EgressRun, upload: UploadRecord, endStatus: EgressStatus): Promise<void> {
    const { target } = run;
    let location = run.file.filename;
    if (target) {
      const body = generatePayload(upload.contentType, upload.bytes, run.info.egressId);
      try {
        location = (
          await uploadObject(target, upload.key, body, upload.contentType, this.settings.uploadTimeoutMs)
        ).location;
        upload.outcome = "uploaded";
        upload.location = location;
      } catch (error) {
        upload.outcome = "failed";
        upload.error = `S3 upload failed: ${(error as Error).message}`;
      }
    } else {
      upload.outcome = "kept-locally";
      upload.location = location;
    }
    // A crashed instance never reports; a failed or reset egress has already said its last word.
    if (!run.running || run.crashed) return;
    if (upload.outcome === "failed") {
      this.settings.logger.warn(
        { egressId: run.info.egressId, bucket: target?.bucket, error: upload.error },
        "upload failed",
      );
      run.info.details = END_REASON.failure;
      this.end(run, EgressStatus.EGRESS_FAILED, upload.error ?? "S3 upload failed", 400);
      return;
    }
    run.file.location = location;
    run.file.size = BigInt(upload.bytes);
    this.settings.logger.info(
      { egressId: run.info.egressId, location, bytes: upload.bytes },
      target ? "file uploaded" : "file kept on the egress instance (no storage configured)",
    );
    if (endStatus === EgressStatus.EGRESS_COMPLETE) {
      run.info.endedAt = nowNanos();
      this.setStatus(run, EgressStatus.EGRESS_COMPLETE);
    } else {
      run.info.updatedAt = nowNanos();
    }
    run.running = false;
    this.emit(run, "egress_ended");
  }

  /** A terminal status that needs no upload (ABORTED, FAILED): set, announce, done. */
  private end(run: EgressRun, status: EgressStatus, error: string, errorCode: number): void {
    const now = nowNanos();
    run.info.error = error;
    run.info.errorCode = errorCode;
    run.info.endedAt = now;
    this.setStatus(run, status);
    run.running = false;
    this.emit(run, "egress_ended");
  }

  private setStatus(run: EgressRun, status: EgressStatus): void {
    run.info.status = status;
    run.info.updatedAt = nowNanos();
  }

  private emit(run: EgressRun, event: EgressEventName): void {
    this.settings.notify(event, run.info);
  }

  private after(run: EgressRun, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      action();
    }, ms);
    run.timers.add(timer);
  }

  private clearTimers(run: EgressRun): void {
    for (const timer of run.timers) clearTimeout(timer);
    run.timers.clear();
  }
}

function cannotStop(status: EgressStatus): TwirpError {
  return new TwirpError("failed_precondition", `egress with status ${statusName(status)} cannot be stopped`);
}
