import { createLogger } from "@recfleet/runtime";
import {
  bool,
  fraction,
  optionsOrExit,
  parseFlags,
  runEmulator,
  secretFromEnv,
  UsageError,
  wholeNumber,
} from "../common/cli.ts";
import {
  DEFAULT_ACCESS_KEY,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_SECRET_KEY,
  type S3EmulatorOptions,
  startS3Emulator,
} from "./emulator.ts";

const HELP = `S3 emulator: a MinIO-compatible S3 server (path-style, SigV4) with objects kept on disk,
MinIO's ListenBucketNotification, and fault knobs for tests.

Usage: node --conditions=@recfleet/source src/s3/cli.ts [options]

Server
  --host <addr>              interface to listen on (default 127.0.0.1)
  --port <n>                 port, 0 for a free one (default 9000, MinIO's)
  --data-dir <path>          where buckets and objects are kept; reuse it to keep them across restarts
                             (default: a new temporary directory, removed on a clean exit)
  --access-key <key>         access key (default $MINIO_ROOT_USER or ${DEFAULT_ACCESS_KEY}; at least 3 characters)
                             its secret key comes from $MINIO_ROOT_PASSWORD or the file $MINIO_ROOT_PASSWORD_FILE
                             (default ${DEFAULT_SECRET_KEY}; at least 8 characters), never from the command line
  --region <name>            site region (default $MINIO_SITE_REGION, else none: like MinIO without a region,
                             any signing region is accepted and clients use us-east-1)
  --bucket <name>            create this bucket at start; repeat for more
  --keepalive-ms <ms>        keep-alive interval of listen streams without ?ping (default ${DEFAULT_KEEPALIVE_MS}, MinIO's)
  --listen <true|false>      serve ListenBucketNotification (default true); false answers it 501, as
                             S3 stores without MinIO's listen API (AWS S3 …) do
  --log-level <level>        pino level (default info)

Faults (all changeable later with PUT /_admin/faults)
  --drop-events <fraction>   fraction 0..1 of events lost, per event and per listener (default 0)
  --fail-for-ms <ms>         answer 503 to every S3 request for this long after start (default 0)
  --fail-code <code>         SlowDown or ServiceUnavailable (default SlowDown)

  -h, --help                 this text

Every flag also takes the form --flag=value.

Admin endpoint (JSON, no SigV4): GET|PUT|DELETE /_admin/faults, GET /_admin/listeners,
POST /_admin/listeners/cut {"mode":"reset"|"end"}, POST /_admin/listeners/garbage {"line"},
GET|DELETE /_admin/requests. Health: GET /minio/health/live.
`;

function failCode(value: string | undefined): S3EmulatorOptions["failCode"] {
  if (value === undefined || value === "SlowDown" || value === "ServiceUnavailable") return value;
  throw new UsageError(`--fail-code needs SlowDown or ServiceUnavailable, got ${JSON.stringify(value)}`);
}

const SECRET_FLAGS = { "secret-key": "MINIO_ROOT_PASSWORD" };

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  "access-key": { type: "string" },
  region: { type: "string" },
  bucket: { type: "string", multiple: true },
  "keepalive-ms": { type: "string" },
  listen: { type: "string" },
  "log-level": { type: "string" },
  "drop-events": { type: "string" },
  "fail-for-ms": { type: "string" },
  "fail-code": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

async function main(): Promise<void> {
  const values = parseFlags(OPTIONS, HELP, SECRET_FLAGS);
  const logger = createLogger("s3-emulator", { level: values["log-level"] ?? "info" });
  const options: S3EmulatorOptions = optionsOrExit(() => {
    const keepAliveMs = wholeNumber("keepalive-ms", values["keepalive-ms"]);
    if (keepAliveMs === 0) throw new UsageError("--keepalive-ms must be at least 1");
    return {
      host: values.host ?? "127.0.0.1",
      port: wholeNumber("port", values.port, { max: 65_535 }) ?? 9000,
      dataDir: values["data-dir"],
      accessKey: values["access-key"] ?? process.env.MINIO_ROOT_USER ?? DEFAULT_ACCESS_KEY,
      secretKey: secretFromEnv("MINIO_ROOT_PASSWORD") ?? DEFAULT_SECRET_KEY,
      region: values.region ?? (process.env.MINIO_SITE_REGION || undefined),
      buckets: values.bucket ?? [],
      keepAliveMs,
      listen: bool("listen", values.listen) ?? true,
      dropEvents: fraction("drop-events", values["drop-events"]),
      failForMs: wholeNumber("fail-for-ms", values["fail-for-ms"]),
      failCode: failCode(values["fail-code"]),
      logger,
    };
  });

  await runEmulator(
    "s3",
    logger,
    () => startS3Emulator(options),
    (emulator) => ({
      port: emulator.port,
      url: emulator.url,
      dataDir: emulator.dataDir,
      region: emulator.region,
      buckets: options.buckets,
    }),
  );
}

await main();
