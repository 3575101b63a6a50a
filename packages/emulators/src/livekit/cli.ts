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
import { DEFAULT_PAYLOAD_CAP_BYTES, DEV_API_KEY, DEV_API_SECRET, startLiveKitEmulator } from "./emulator.ts";
import { DEFAULT_FAULTS } from "./faults.ts";
import type { DefaultStorage } from "./storage.ts";

const HELP = `LiveKit emulator: rooms and participants (RoomService over Twirp, participants driven by the
admin endpoint), the Egress API (StartRoomCompositeEgress, StopEgress, ListEgress) with real S3
uploads, and LiveKit's webhooks for both — including the unkind parts of the real server.

Usage: node --conditions=@recfleet/source src/livekit/cli.ts [options]

Server
  --host <addr>                  interface to listen on (default 127.0.0.1)
  --port <n>                     port, 0 for a free one (default 7880, LiveKit's)
  --api-key <key>                API key tokens must be issued by (default $LIVEKIT_API_KEY or ${DEV_API_KEY});
                                 its secret comes from $LIVEKIT_API_SECRET or the file $LIVEKIT_API_SECRET_FILE
                                 (default ${DEV_API_SECRET}), never from the command line
  --log-level <level>            pino level (default info)

Webhooks
  --webhook-url <url>            POST egress_started / egress_updated / egress_ended here (default: none)
  --webhook-timeout-ms <ms>      timeout of each POST (default 5000)
  --webhook-retries <n>          retries after a failed POST (default 3)
  --drop-webhooks <fraction>     fraction 0..1 of events never delivered (default 0)

Rooms
  --empty-timeout-ms <ms>        a room nobody joined closes after this long (default 300000, LiveKit's)
  --departure-timeout-ms <ms>    a room closes this long after its last participant left (default 20000)
  --ended-retention-ms <ms>      ended egresses are forgotten after this long (default 86400000, LiveKit's)
  --source-wait-ms <ms>          a participant or track composite egress waits this long for its
                                 participant or tracks, then fails "… not found" (default 30000, egress')
  --stream-give-up-ms <ms>       a stream that broke after media flowed is given up after reconnecting
                                 this long (default 30000, egress')
  --rtmp-ingest-port <n>         also run an RTMP ingest (a stand-in for YouTube Live or Twitch) on this
                                 port, 0 for a free one; it takes any stream key (default: none)
  --auto-room <true|false>       sandbox only: a Start for an unknown room opens it with one publishing
                                 participant instead of the real 404 (default false)
  --auto-room-delay-ms <ms>      with --auto-room: the room opens this long after the first Start, which
                                 gets the real 404 meanwhile (default 0: at once)

Lifecycle and faults (all changeable later with PUT /_admin/faults)
  --activation-delay-ms <ms>     STARTING → ACTIVE this long after the start signal (default ${DEFAULT_FAULTS.activationDelayMs})
  --refusal-delay-ms <ms>        a full fleet's 503 comes this late (default ${DEFAULT_FAULTS.refusalDelayMs}, like livekit-server)
  --start-latency-ms <ms>        Start answers this late; the egress exists at once (default 0)
  --capacity <n>                 at most n egresses running; more get 503 unavailable (default: no limit)
  --max-duration-ms <ms>         an ACTIVE egress ends with EGRESS_LIMIT_REACHED after this long (default: never)
  --fail-next <n>                the next n egresses fail once ACTIVE (default 0)
  --crash-next <n>               the next n egresses crash once ACTIVE (default 0)

Files
  --payload-cap-bytes <n>        largest placeholder file written, whatever the bitrate (default ${DEFAULT_PAYLOAD_CAP_BYTES})
  --media <placeholder|ffmpeg>   files and segments of placeholder bytes, or real media rendered by ffmpeg
                                 at the requested encoding (default placeholder)
  --upload-timeout-ms <ms>       timeout of each upload (default 30000)
  --storage-endpoint <url>       egress' own S3 storage, for requests without an s3 block, e.g. http://127.0.0.1:9000
  --storage-bucket <name>        its bucket
  --storage-region <region>      its region (default us-east-1)
  --storage-access-key <key>     its access key
                                 (its secret key: $EGRESS_STORAGE_SECRET or the file $EGRESS_STORAGE_SECRET_FILE)
  --storage-force-path-style <true|false>  path-style URLs (default true, what MinIO needs)
  --storage-prefix <path>        egress' storage.prefix: every file lands under it, request s3 blocks included
  --upload-retry-delay-ms <ms>   pause before the first retry of a failed upload, doubling up to 5 s (default 100)
  --backup-endpoint <url>        egress' backup storage, where a file goes once its upload failed every try
  --backup-bucket <name>         its bucket
  --backup-region <region>       its region (default us-east-1)
  --backup-access-key <key>      its access key
                                 (its secret key: $EGRESS_BACKUP_SECRET or the file $EGRESS_BACKUP_SECRET_FILE)
  --backup-force-path-style <true|false>  path-style URLs (default true)
  --backup-prefix <path>         its prefix

  -h, --help                     this text

Every flag also takes the form --flag=value.

Admin endpoint (JSON): GET /_admin/requests, /_admin/egresses[/{id}], /_admin/webhooks, /_admin/faults,
/_admin/rooms; PUT /_admin/faults; POST /_admin/egresses/{id}/fail, /_admin/egresses/{id}/crash,
/_admin/egresses/forget, /_admin/reset; rooms: POST /_admin/rooms/{room}/participants {"identity","publish"},
POST|PATCH|DELETE …/participants/{identity}/tracks[/{source}], DELETE …/participants/{identity},
DELETE /_admin/rooms/{room}.
`;

/** `--storage-*` (egress' own storage) or `--backup-*` (its backup storage), with its secret from the environment. */
function storageFlags(
  values: Record<string, string | boolean | undefined>,
  flag: "storage" | "backup",
  secretEnv: string,
): DefaultStorage | null {
  const text = (name: string) => {
    const value = values[`${flag}-${name}`];
    return typeof value === "string" ? value : undefined;
  };
  const endpoint = text("endpoint");
  const bucket = text("bucket");
  const accessKey = text("access-key");
  const secret = secretFromEnv(secretEnv);
  const region = text("region");
  const forcePathStyle = bool(`${flag}-force-path-style`, text("force-path-style"));
  const given = [endpoint, bucket, accessKey, secret, region, forcePathStyle].some((v) => v !== undefined);
  if (!given) return null;
  if (!endpoint || !bucket || !accessKey || !secret) {
    throw new UsageError(
      `${flag === "storage" ? "default" : "backup"} storage needs --${flag}-endpoint, --${flag}-bucket, --${flag}-access-key and ${secretEnv} together`,
    );
  }
  return {
    endpoint,
    bucket,
    accessKey,
    secret,
    ...(region ? { region } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
  };
}

function backupStorage(values: Record<string, string | boolean | undefined>) {
  const storage = storageFlags(values, "backup", "EGRESS_BACKUP_SECRET");
  const prefix = values["backup-prefix"];
  if (!storage) {
    if (prefix !== undefined)
      throw new UsageError("--backup-prefix needs the backup storage (--backup-endpoint …)");
    return null;
  }
  return { ...storage, ...(typeof prefix === "string" ? { prefix } : {}) };
}

const SECRET_FLAGS = {
  "api-secret": "LIVEKIT_API_SECRET",
  "storage-secret": "EGRESS_STORAGE_SECRET",
  "backup-secret": "EGRESS_BACKUP_SECRET",
};

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "api-key": { type: "string" },
  "log-level": { type: "string" },
  "webhook-url": { type: "string" },
  "webhook-timeout-ms": { type: "string" },
  "webhook-retries": { type: "string" },
  "drop-webhooks": { type: "string" },
  "activation-delay-ms": { type: "string" },
  "refusal-delay-ms": { type: "string" },
  "empty-timeout-ms": { type: "string" },
  "departure-timeout-ms": { type: "string" },
  "ended-retention-ms": { type: "string" },
  "source-wait-ms": { type: "string" },
  "stream-give-up-ms": { type: "string" },
  "rtmp-ingest-port": { type: "string" },
  "auto-room": { type: "string" },
  "auto-room-delay-ms": { type: "string" },
  "start-latency-ms": { type: "string" },
  capacity: { type: "string" },
  "max-duration-ms": { type: "string" },
  "fail-next": { type: "string" },
  "crash-next": { type: "string" },
  "payload-cap-bytes": { type: "string" },
  media: { type: "string" },
  "upload-timeout-ms": { type: "string" },
  "storage-endpoint": { type: "string" },
  "storage-bucket": { type: "string" },
  "storage-region": { type: "string" },
  "storage-access-key": { type: "string" },
  "storage-force-path-style": { type: "string" },
  "storage-prefix": { type: "string" },
  "upload-retry-delay-ms": { type: "string" },
  "backup-endpoint": { type: "string" },
  "backup-bucket": { type: "string" },
  "backup-region": { type: "string" },
  "backup-access-key": { type: "string" },
  "backup-force-path-style": { type: "string" },
  "backup-prefix": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function mediaFlag(value: string | undefined): "placeholder" | "ffmpeg" {
  if (value === undefined || value === "placeholder") return "placeholder";
  if (value === "ffmpeg") return "ffmpeg";
  throw new UsageError(`--media must be placeholder or ffmpeg, not ${JSON.stringify(value)}`);
}

async function main(): Promise<void> {
  const values = parseFlags(OPTIONS, HELP, SECRET_FLAGS);
  const logger = createLogger("livekit-emulator", { level: values["log-level"] ?? "info" });
  const options: Parameters<typeof startLiveKitEmulator>[0] = optionsOrExit(() => {
    const maxDuration = wholeNumber("max-duration-ms", values["max-duration-ms"], { min: 1 });
    const capacity = wholeNumber("capacity", values.capacity);
    return {
      host: values.host ?? "127.0.0.1",
      port: wholeNumber("port", values.port, { max: 65_535 }) ?? 7880,
      apiKey: values["api-key"] ?? process.env.LIVEKIT_API_KEY ?? DEV_API_KEY,
      apiSecret: secretFromEnv("LIVEKIT_API_SECRET") ?? DEV_API_SECRET,
      webhookUrl: values["webhook-url"] ?? null,
      webhookTimeoutMs: wholeNumber("webhook-timeout-ms", values["webhook-timeout-ms"], { min: 1 }),
      webhookRetries: wholeNumber("webhook-retries", values["webhook-retries"]),
      dropWebhooks: fraction("drop-webhooks", values["drop-webhooks"]),
      activationDelayMs: wholeNumber("activation-delay-ms", values["activation-delay-ms"]),
      refusalDelayMs: wholeNumber("refusal-delay-ms", values["refusal-delay-ms"]),
      emptyTimeoutMs: wholeNumber("empty-timeout-ms", values["empty-timeout-ms"], { min: 1 }),
      departureTimeoutMs: wholeNumber("departure-timeout-ms", values["departure-timeout-ms"], { min: 1 }),
      endedRetentionMs: wholeNumber("ended-retention-ms", values["ended-retention-ms"], { min: 1 }),
      sourceWaitMs: wholeNumber("source-wait-ms", values["source-wait-ms"], { min: 1 }),
      streamGiveUpMs: wholeNumber("stream-give-up-ms", values["stream-give-up-ms"]),
      rtmpIngestPort: wholeNumber("rtmp-ingest-port", values["rtmp-ingest-port"], { max: 65535 }),
      autoRoom: bool("auto-room", values["auto-room"]) ?? false,
      autoRoomDelayMs: wholeNumber("auto-room-delay-ms", values["auto-room-delay-ms"]),
      startLatencyMs: wholeNumber("start-latency-ms", values["start-latency-ms"]),
      ...(capacity !== undefined ? { capacity } : {}),
      ...(maxDuration !== undefined ? { maxDurationMs: maxDuration } : {}),
      failNext: wholeNumber("fail-next", values["fail-next"]),
      crashNext: wholeNumber("crash-next", values["crash-next"]),
      payloadCapBytes: wholeNumber("payload-cap-bytes", values["payload-cap-bytes"], { min: 1 }),
      media: mediaFlag(values.media),
      uploadTimeoutMs: wholeNumber("upload-timeout-ms", values["upload-timeout-ms"], { min: 1 }),
      uploadRetryDelayMs: wholeNumber("upload-retry-delay-ms", values["upload-retry-delay-ms"]),
      defaultStorage: storageFlags(values, "storage", "EGRESS_STORAGE_SECRET"),
      ...(values["storage-prefix"] !== undefined ? { storagePrefix: values["storage-prefix"] } : {}),
      backupStorage: backupStorage(values),
      logger,
    };
  });

  await runEmulator(
    "livekit",
    logger,
    () => startLiveKitEmulator(options),
    (emulator) => ({
      port: emulator.port,
      url: emulator.url,
      apiKey: emulator.apiKey,
      webhookUrl: options.webhookUrl ?? null,
      autoRoom: options.autoRoom ?? false,
      defaultStorage: options.defaultStorage ? options.defaultStorage.endpoint : null,
      rtmpIngestPort: emulator.rtmpIngest?.port ?? null,
    }),
  );
}

await main();
