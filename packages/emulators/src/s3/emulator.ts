import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger, type Logger } from "@recfleet/runtime";
import { closeServer, listen } from "../common/http.ts";
import { ADMIN_PREFIX, handleAdmin, type S3AdminApi } from "./admin.ts";
import { BROWSE_PREFIX, handleBrowse } from "./browse-page.ts";
import type { S3Config, S3Core, S3Request } from "./context.ts";
import { buildEvent } from "./events.ts";
import { type FailCode, type FaultPatch, FaultState, parseFaultPatch } from "./faults.ts";
import { sourceIp } from "./http-semantics.ts";
import { type CutMode, ListenerHub } from "./listeners.ts";
import { isValidBucketName } from "./names.ts";
import { RequestLog } from "./request-log.ts";
import { handleS3 } from "./router.ts";
import { ObjectStore } from "./store.ts";

export const DEFAULT_ACCESS_KEY = "minioadmin";
export const DEFAULT_SECRET_KEY = "minioadmin";
/** The region clients sign with when the server names none. */
export const DEFAULT_REGION = "us-east-1";
const MINIO_IDLE_TIMEOUT_MS = 30_000;
/** MinIO's keep-alive interval on a listen stream without `ping`. */
export const DEFAULT_KEEPALIVE_MS = 500;
/** A line that is not JSON, like an HTML error page a proxy might send mid-stream. */
export const DEFAULT_GARBAGE_LINE = "<html><body><h1>502 Bad Gateway</h1></body></html>";

export interface S3EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Where buckets and objects live; default: a new temporary directory, removed by close(). */
  dataDir?: string;
  /** Default minioadmin / minioadmin; MinIO's rules apply (≥ 3 and ≥ 8 characters). */
  accessKey?: string;
  secretKey?: string;
  /**
   * The site region (MINIO_SITE_REGION). Unset: like MinIO without one, any signing region is
   * accepted, GetBucketLocation answers us-east-1, events carry `"awsRegion":""`. Set: requests
   * signed for another region are refused with AuthorizationHeaderMalformed.
   */
  region?: string;
  /** Buckets created at start (existing ones are kept). */
  buckets?: string[];
  /** Keep-alive interval of listen streams without `ping`; default 500 ms. */
  keepAliveMs?: number;
  /**
   * Serve ListenBucketNotification (default true). False answers it 501 NotImplemented, as S3
   * stores without MinIO's listen API (AWS S3 and most others) do.
   */
  listen?: boolean;
  /** Initial faults (see S3Faults). */
  dropEvents?: number;
  failForMs?: number;
  failCode?: FailCode;
  /** How many S3 requests the request log keeps; default 10,000. */
  requestLogSize?: number;
  /** Default: a pino logger at `warn` (the CLI passes its own). */
  logger?: Logger;
}

export interface S3Emulator extends S3AdminApi {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** The region clients should sign with: the site region, or us-east-1. */
  readonly region: string;
  /** Stops listening and closes every connection, listen streams included. */
  close(): Promise<void>;
  setDropRate(rate: number): void;
  /** Answers every S3 request 503 (SlowDown unless told otherwise) for `ms` from now. */
  failFor(ms: number, code?: FailCode): void;
  /** Resolves once at least `count` listen streams are connected. */
  waitForListeners(count: number, timeoutMs?: number): Promise<void>;
}

function validateOptions(options: S3EmulatorOptions): void {
  const problems: string[] = [];
  const { port, accessKey, secretKey, region, keepAliveMs, requestLogSize } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    problems.push("port must be an integer between 0 and 65535");
  }
  if (accessKey !== undefined && accessKey.length < 3)
    problems.push("accessKey must be at least 3 characters");
  if (secretKey !== undefined && secretKey.length < 8)
    problems.push("secretKey must be at least 8 characters");
  if (region !== undefined && !/^[a-z0-9-]+$/i.test(region)) problems.push("region must be a region name");
  if (keepAliveMs !== undefined && (!Number.isInteger(keepAliveMs) || keepAliveMs < 1)) {
    problems.push("keepAliveMs must be a positive integer");
  }
  if (requestLogSize !== undefined && (!Number.isInteger(requestLogSize) || requestLogSize < 1)) {
    problems.push("requestLogSize must be a positive integer");
  }
  for (const bucket of options.buckets ?? []) {
    if (!isValidBucketName(bucket)) problems.push(`"${bucket}" is not a valid bucket name`);
  }
  if (problems.length > 0) throw new Error(`invalid S3 emulator options: ${problems.join("; ")}`);
}

/**
 * Starts a MinIO-compatible S3 server: path-style S3 over HTTP with SigV4, objects kept on disk,
 * MinIO's ListenBucketNotification, and fault knobs for tests.
 */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  validateOptions(options);
  const initialFaults: FaultPatch = parseFaultPatch({
    dropEvents: options.dropEvents,
    failForMs: options.failForMs,
    failCode: options.failCode,
  });
  const logger = options.logger ?? createLogger("s3-emulator", { level: "warn" });
  const host = options.host ?? "127.0.0.1";
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ? resolve(options.dataDir) : await mkdtemp(join(tmpdir(), "s3-emulator-"));
  const store = await ObjectStore.open(dataDir, logger);
  for (const bucket of options.buckets ?? []) await store.createBucket(bucket);

  const faults = new FaultState();
  faults.apply(initialFaults);
  const config: S3Config = {
    accessKey: options.accessKey ?? DEFAULT_ACCESS_KEY,
    secretKey: options.secretKey ?? DEFAULT_SECRET_KEY,
    region: options.region,
    keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
    listen: options.listen ?? true,
  };
  const hub = new ListenerHub({
    keepAliveMs: config.keepAliveMs,
    maxBufferedBytes: 8 * 1024 * 1024,
    dropRate: () => faults.dropRate(),
    logger,
  });
  const requestLog = new RequestLog(options.requestLogSize ?? 10_000);
  // Both are known once the server listens, before any request can arrive.
  let endpoint = "";
  let hostId = "";
  const core: S3Core = {
    config,
    store,
    hub,
    requestLog,
    logger,
    get hostId() {
      return hostId;
    },
    endpoint: () => endpoint,
    publish(eventName: string, request: S3Request, bucket: string, object) {
      if (hub.count() === 0) return;
      const userAgent = request.req.headers["user-agent"] ?? "";
      hub.publish(
        buildEvent(
          eventName,
          bucket,
          object,
          {
            accessKey: request.auth?.accessKey ?? "",
            sourceIp: sourceIp(request.req),
            userAgent,
            requestId: request.requestId,
            hostId,
            deploymentId: store.deploymentId,
            endpoint,
            region: config.region ?? "",
          },
          new Date(),
        ),
      );
    },
  };

  const admin: S3AdminApi = {
    faults: () => faults.snapshot(),
    setFaults: (patch) => faults.apply(parseFaultPatch(patch)),
    resetFaults: () => faults.reset(),
    cutListeners: (mode: CutMode = "reset") => hub.cut(mode),
    injectGarbage: (line = DEFAULT_GARBAGE_LINE) => hub.injectGarbage(line),
    listeners: () => hub.list(),
    requests: (afterSeq) => requestLog.list(afterSeq),
    clearRequests: () => requestLog.clear(),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
      handleAdmin(req, res, admin).catch((error: unknown) => {
        logger.error({ err: error }, "admin request failed");
        res.destroy();
      });
      return;
    }
    if (path === BROWSE_PREFIX || path.startsWith(`${BROWSE_PREFIX}/`)) {
      handleBrowse(req, res, store).catch((error: unknown) => {
        logger.error({ err: error }, "browse request failed");
        res.destroy();
      });
      return;
    }
    if (path.startsWith("/minio/health/") && (req.method === "GET" || req.method === "HEAD")) {
      // MinIO's liveness and readiness probes: no auth, empty 200.
      res.writeHead(200, { Server: "MinIO", "Content-Length": 0 }).end();
      return;
    }
    if (req.method === "OPTIONS" && req.headers.origin && req.headers["access-control-request-method"]) {
      res
        .writeHead(204, {
          "Access-Control-Allow-Origin": req.headers.origin,
          "Access-Control-Allow-Methods": "GET, PUT, HEAD, POST, DELETE, OPTIONS, PATCH",
          "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "*",
          "Access-Control-Allow-Credentials": "true",
          Vary: "Origin",
        })
        .end();
      return;
    }
    handleS3(core, faults, req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, "s3 request failed without an answer");
      res.destroy();
    });
  });
  // MinIO keeps an idle connection 30 s (its DefaultIdleTimeout, internal/http/server.go); Node's
  // 5 s default would close sockets a client is about to reuse, a race MinIO does not have.
  server.keepAliveTimeout = MINIO_IDLE_TIMEOUT_MS;
  server.headersTimeout = MINIO_IDLE_TIMEOUT_MS + 5000;
  const port = await listen(server, options.port ?? 0, host);
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  endpoint = `http://${urlHost}:${port}`;
  hostId = createHash("sha256").update(`${host}:${port}`).digest("hex");
  logger.debug({ port, host, dataDir }, "s3 emulator started");

  let closing: Promise<void> | undefined;
  return {
    ...admin,
    url: endpoint,
    host,
    port,
    dataDir,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region: config.region ?? DEFAULT_REGION,
    setDropRate: (rate) => {
      faults.apply(parseFaultPatch({ dropEvents: rate }));
    },
    failFor: (ms, code) => {
      faults.apply(parseFaultPatch({ failForMs: ms, failCode: code }));
    },
    waitForListeners: (count, timeoutMs = 5000) => hub.waitFor(count, timeoutMs),
    close() {
      closing ??= (async () => {
        hub.closeAll();
        await closeServer(server);
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
