// The one configuration schema of the fleet. Every key has an env var and a doc; the generated
// docs/configuration.md is made from this file. Apps load only the sections they use.
import type convict from "convict";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LAYOUTS = [
  "speaker",
  "speaker-light",
  "speaker-dark",
  "grid",
  "grid-light",
  "grid-dark",
  "single-speaker",
  "single-speaker-light",
  "single-speaker-dark",
] as const;

export interface RedisConfig {
  url: string;
  prefix: string;
  tls: boolean;
  commandTimeoutMs: number;
}
export interface LivekitConfig {
  url: string;
  apiKey: string;
  apiSecret: string;
  requestTimeoutMs: number;
}
export interface StorageConfig {
  endpoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  prefix: string;
  requestTimeoutMs: number;
  egressUpload: boolean;
  egressEndpoint: string;
  egressPrefix: string;
  egressBackupBucket: string;
  egressBackupPrefix: string;
  /** listen: bucket events through the storage listener; none: the reconciler looks in the bucket. */
  events: "listen" | "none";
  publicUrl: string;
}
export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  from: string;
  poolSize: number;
  timeoutMs: number;
}
export interface ApiConfig {
  port: number;
  host: string;
  apiKeys: string[];
  bodyLimit: number;
  dashboardUser: string;
  dashboardPassword: string;
  dashboardReadOnly: boolean;
  publicUrl: string;
  trustProxy: string;
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  shutdownGraceMs: number;
}
export interface TenantsConfig {
  file: string;
}
export interface RecorderConfig {
  concurrency: number;
  startDeadlineMs: number;
  shutdownGraceMs: number;
  reconcileIntervalMs: number;
  maxDurationMs: number;
  stopTimeoutMs: number;
  egressStartTimeoutMs: number;
  roomWaitMs: number;
  fileCheckAfterMs: number;
  fileLostAfterMs: number;
  queuedTimeoutMs: number;
  lockDurationMs: number;
}
export interface ProfilesConfig {
  file: string;
  /** Named defaultName, not default: convict reads a "default" key as a leaf's default value. */
  defaultName: string;
  defaultLayout: (typeof LAYOUTS)[number];
}
/** What API consumers may ask of egress per recording, on top of a profile. */
export interface EncodingConfig {
  maxWidth: number;
  maxHeight: number;
  maxFramerate: number;
  /** kbps */
  maxVideoBitrate: number;
  /** kbps */
  maxAudioBitrate: number;
  /** Custom template base URLs a recording may name (customBaseUrl starts with one); empty: none. */
  customBaseUrls: string[];
  /** Base URLs a web source may open (its url starts with one); empty: web sources are refused. */
  webSourceUrls: string[];
}
export interface AutoRecordConfig {
  /** JSON or YAML file of auto-record rules; empty: none. */
  file: string;
}
export interface StreamsConfig {
  allowPrivateTargets: boolean;
}
export interface RecordingsConfig {
  retentionDays: number;
  expireDays: number;
}
export interface MailerConfig {
  concurrency: number;
  linkExpirySeconds: number;
  downloadUrlTemplate: string;
  /** The API's public URL: emails link a share of the recording's watch page; empty: presigned links. */
  watchBaseUrl: string;
  locale: string;
  timeZone: string;
  retryWindowMs: number;
}
export interface CallbacksConfig {
  allowPrivateTargets: boolean;
  timeoutMs: number;
  retryDelayMs: number;
  retryWindowMs: number;
}
export interface ListenerConfig {
  resyncIntervalMs: number;
  resyncMarginMs: number;
}
export interface HealthConfig {
  port: number;
  host: string;
}
export interface LogConfig {
  level: (typeof LOG_LEVELS)[number];
}

export interface FleetConfig {
  redis: RedisConfig;
  livekit: LivekitConfig;
  storage: StorageConfig;
  smtp: SmtpConfig;
  api: ApiConfig;
  recorder: RecorderConfig;
  profiles: ProfilesConfig;
  encoding: EncodingConfig;
  streams: StreamsConfig;
  recordings: RecordingsConfig;
  tenants: TenantsConfig;
  autoRecord: AutoRecordConfig;
  mailer: MailerConfig;
  callbacks: CallbacksConfig;
  listener: ListenerConfig;
  health: HealthConfig;
  log: LogConfig;
}

export type Section = keyof FleetConfig;

type SectionSchema<T> = convict.Schema<T>;

export const schema: { [S in Section]: SectionSchema<FleetConfig[S]> } = {
  redis: {
    url: {
      doc: "Redis connection URL (redis:// or rediss://). Holds the queues and the recording store.",
      format: "redis-url",
      default: "redis://127.0.0.1:6379",
      env: "REDIS_URL",
      sensitive: true,
    },
    prefix: {
      doc: "Prefix of every Redis key recfleet writes (BullMQ queues and the recording store). Changing it orphans existing jobs.",
      format: "key-prefix",
      default: "recfleet",
      env: "REDIS_PREFIX",
    },
    tls: {
      doc: "Use TLS to reach Redis even when the URL says redis:// (a rediss:// URL always uses TLS).",
      format: "strict-boolean",
      default: false,
      env: "REDIS_TLS",
    },
    commandTimeoutMs: {
      doc: "Timeout of a single Redis command issued by the API and the recording store, in milliseconds.",
      format: "positive-int",
      default: 2000,
      env: "REDIS_COMMAND_TIMEOUT_MS",
    },
  },
  livekit: {
    url: {
      doc: "LiveKit server URL (http(s):// or ws(s)://); the Egress API is reached at <url>/twirp.",
      format: "http-url",
      default: "http://127.0.0.1:7880",
      env: "LIVEKIT_URL",
    },
    apiKey: {
      doc: "LiveKit API key: signs Egress API calls and identifies LiveKit webhooks.",
      format: "required-string",
      default: "",
      env: "LIVEKIT_API_KEY",
    },
    apiSecret: {
      doc: "LiveKit API secret matching LIVEKIT_API_KEY.",
      format: "required-string",
      default: "",
      env: "LIVEKIT_API_SECRET",
      sensitive: true,
    },
    requestTimeoutMs: {
      doc: "Timeout of one Egress API call in milliseconds. A Start that times out may still succeed; the recorder adopts it on retry.",
      format: "positive-int",
      default: 10000,
      env: "LIVEKIT_REQUEST_TIMEOUT_MS",
    },
  },
  storage: {
    endpoint: {
      doc: "S3/MinIO host name (no scheme, no port) as recfleet reaches it.",
      format: "required-string",
      default: "127.0.0.1",
      env: "STORAGE_ENDPOINT",
    },
    port: {
      doc: "S3/MinIO port.",
      format: "port",
      default: 9000,
      env: "STORAGE_PORT",
    },
    useSSL: {
      doc: "Use HTTPS to reach S3/MinIO.",
      format: "strict-boolean",
      default: false,
      env: "STORAGE_USE_SSL",
    },
    accessKey: {
      doc: "S3/MinIO access key.",
      format: "required-string",
      default: "",
      env: "STORAGE_ACCESS_KEY",
    },
    secretKey: {
      doc: "S3/MinIO secret key.",
      format: "required-string",
      default: "",
      env: "STORAGE_SECRET_KEY",
      sensitive: true,
    },
    bucket: {
      doc: "Bucket that receives the recordings.",
      format: "required-string",
      default: "recordings",
      env: "STORAGE_BUCKET",
    },
    region: {
      doc: "S3 region (MinIO's default is us-east-1).",
      format: "required-string",
      default: "us-east-1",
      env: "STORAGE_REGION",
    },
    prefix: {
      doc: "Object key prefix of recording files: <prefix>/<recordingId>.<mp4|ogg|webm>.",
      format: "object-prefix",
      default: "recordings",
      env: "STORAGE_PREFIX",
    },
    requestTimeoutMs: {
      doc: "Timeout of one S3 call (list, stat, presign) in milliseconds.",
      format: "positive-int",
      default: 10000,
      env: "STORAGE_REQUEST_TIMEOUT_MS",
    },
    egressUpload: {
      doc: "Send S3 upload credentials in each Egress request. Set false when the egress fleet has its own storage settings.",
      format: "strict-boolean",
      default: true,
      env: "STORAGE_EGRESS_UPLOAD",
    },
    egressEndpoint: {
      doc: "S3 endpoint URL as the egress fleet reaches it (e.g. http://minio:9000). Empty: derived from STORAGE_ENDPOINT, STORAGE_PORT and STORAGE_USE_SSL.",
      format: "optional-http-url",
      default: "",
      env: "STORAGE_EGRESS_ENDPOINT",
    },
    egressPrefix: {
      doc: "The prefix the egress fleet puts before every file it uploads (its own `storage.prefix` setting): files land at <this>/<STORAGE_PREFIX>/<recordingId>.<mp4|ogg|webm>. Empty when egress has none.",
      format: "optional-object-prefix",
      default: "",
      env: "STORAGE_EGRESS_PREFIX",
    },
    egressBackupBucket: {
      doc: "The bucket of the egress fleet's backup storage (its `backup:` setting), when it is in the storage recfleet reads: a file egress could only upload there is found and saved. Empty: such a recording fails stored_in_backup, naming where the file went.",
      format: "optional-string",
      default: "",
      env: "STORAGE_EGRESS_BACKUP_BUCKET",
    },
    egressBackupPrefix: {
      doc: "The prefix of the egress fleet's backup storage (its `backup.prefix`).",
      format: "optional-object-prefix",
      default: "",
      env: "STORAGE_EGRESS_BACKUP_PREFIX",
    },
    events: {
      doc: "How recfleet learns that a recording's file landed: listen (MinIO's ListenBucketNotification, through the storage listener, with re-scans) or none, for S3 stores without that API such as AWS S3 (the recorder's reconciler looks for the file in the bucket on every sweep once egress reported it; run no storage listener).",
      format: ["listen", "none"],
      default: "listen",
      env: "STORAGE_EVENTS",
    },
    publicUrl: {
      doc: "S3 base URL as email recipients reach it (e.g. https://files.example.com); presigned download links are signed for this host. Empty: the same as STORAGE_ENDPOINT.",
      format: "optional-http-url",
      default: "",
      env: "STORAGE_PUBLIC_URL",
    },
  },
  smtp: {
    host: {
      doc: "SMTP server host.",
      format: "required-string",
      default: "127.0.0.1",
      env: "SMTP_HOST",
    },
    port: {
      doc: "SMTP server port.",
      format: "port",
      default: 587,
      env: "SMTP_PORT",
    },
    secure: {
      doc: "Use implicit TLS (port 465 style). With false, STARTTLS is used when the server offers it.",
      format: "strict-boolean",
      default: false,
      env: "SMTP_SECURE",
    },
    user: {
      doc: "SMTP user name; empty for no authentication.",
      format: "optional-string",
      default: "",
      env: "SMTP_USER",
    },
    pass: {
      doc: "SMTP password.",
      format: "optional-string",
      default: "",
      env: "SMTP_PASS",
      sensitive: true,
    },
    from: {
      doc: "Sender of notification emails.",
      format: "email",
      default: "recfleet <no-reply@localhost>",
      env: "SMTP_FROM",
    },
    poolSize: {
      doc: "Pooled SMTP connections per mailer process.",
      format: "positive-int",
      default: 5,
      env: "SMTP_POOL_SIZE",
    },
    timeoutMs: {
      doc: "Connection, greeting and socket timeout of SMTP, in milliseconds.",
      format: "positive-int",
      default: 30000,
      env: "SMTP_TIMEOUT_MS",
    },
  },
  api: {
    port: {
      doc: "HTTP port of the API.",
      format: "port",
      default: 8080,
      env: "PORT",
    },
    host: {
      doc: "Address the API listens on.",
      format: "required-string",
      default: "0.0.0.0",
      env: "API_HOST",
    },
    apiKeys: {
      doc: "Comma-separated API keys accepted as 'Authorization: Bearer <key>', each `tenant=key` (e.g. acme=…,globex=…) or a bare key of tenant `default`; a tenant may have several (rotation). Keys are at least 16 characters; TENANTS_FILE may list more.",
      format: "secret-list",
      default: [],
      env: "API_KEYS",
      sensitive: true,
    },
    bodyLimit: {
      doc: "Largest accepted request body (e.g. 16kb).",
      format: "byte-size",
      default: 16384,
      env: "API_BODY_LIMIT",
    },
    dashboardUser: {
      doc: "User name of the queue dashboard at /admin/queues. The dashboard is off while user or password is empty.",
      format: "optional-string",
      default: "",
      env: "DASHBOARD_USER",
    },
    dashboardPassword: {
      doc: "Password of the queue dashboard, at least 12 characters.",
      format: "dashboard-password",
      default: "",
      env: "DASHBOARD_PASSWORD",
      sensitive: true,
    },
    dashboardReadOnly: {
      doc: "Serve the dashboard read-only (no retry, remove or promote buttons). Set false to let dashboard users change jobs.",
      format: "strict-boolean",
      default: true,
      env: "DASHBOARD_READ_ONLY",
    },
    publicUrl: {
      doc: "Public base URL of the API (e.g. https://recordings.example.com): every link in answers and emails is built from it. Required.",
      format: "public-base-url",
      default: "",
      env: "API_PUBLIC_URL",
    },
    trustProxy: {
      doc: "Which reverse proxies' X-Forwarded-For to believe when telling a client's address (for the failed-authentication limit and the logs): empty for none, a hop count such as 1, or proxy addresses and CIDR ranges (also loopback, linklocal, uniquelocal).",
      format: "trust-proxy",
      default: "",
      env: "API_TRUST_PROXY",
    },
    authFailureLimit: {
      doc: "Failed authentications (API keys, dashboard passwords, each apart) one client address may make per API_AUTH_FAILURE_WINDOW_SECONDS; past it the address is answered 429 until the window ends. Counted in Redis: it holds across API replicas.",
      format: "positive-int",
      default: 20,
      env: "API_AUTH_FAILURE_LIMIT",
    },
    authFailureWindowSeconds: {
      doc: "The window of API_AUTH_FAILURE_LIMIT, in seconds.",
      format: "positive-int",
      default: 300,
      env: "API_AUTH_FAILURE_WINDOW_SECONDS",
    },
    shutdownGraceMs: {
      doc: "On SIGTERM, how long in-flight requests may take before connections are closed, in milliseconds.",
      format: "positive-int",
      default: 8000,
      env: "API_SHUTDOWN_GRACE_MS",
    },
  },
  recorder: {
    concurrency: {
      doc: "Start/stop jobs one recorder process handles at once.",
      format: "positive-int",
      default: 10,
      env: "RECORDER_CONCURRENCY",
    },
    startDeadlineMs: {
      doc: "How long a start keeps retrying while the egress fleet is full or unreachable before the recording fails (start_failed), in milliseconds.",
      format: "positive-int",
      default: 600000,
      env: "RECORDER_START_DEADLINE_MS",
    },
    shutdownGraceMs: {
      doc: "On SIGTERM, how long active jobs may run before the worker closes, in milliseconds.",
      format: "positive-int",
      default: 20000,
      env: "RECORDER_SHUTDOWN_GRACE_MS",
    },
    reconcileIntervalMs: {
      doc: "Period of the reconciler that heals recordings whose webhooks were lost, in milliseconds.",
      format: "positive-int",
      default: 30000,
      env: "RECORDER_RECONCILE_INTERVAL_MS",
    },
    maxDurationMs: {
      doc: "Longest a recording may run before the reconciler stops it, in milliseconds.",
      format: "positive-int",
      default: 14400000,
      env: "RECORDER_MAX_DURATION_MS",
    },
    stopTimeoutMs: {
      doc: "A recording still stopping this long after the stop was sent (its egress instance died) fails as lost, in milliseconds.",
      format: "positive-int",
      default: 300000,
      env: "RECORDER_STOP_TIMEOUT_MS",
    },
    egressStartTimeoutMs: {
      doc: "How long an egress may wait for its start signal (someone publishing in the room) before the recorder stops it and fails the recording no_start_signal, in milliseconds.",
      format: "positive-int",
      default: 600000,
      env: "RECORDER_EGRESS_START_TIMEOUT_MS",
    },
    roomWaitMs: {
      doc: "How long a recording waits for its room to exist in LiveKit (a request may ask for less or more, up to 1 hour) before it fails room_not_found, in milliseconds.",
      format: "positive-int",
      default: 600000,
      env: "RECORDER_ROOM_WAIT_MS",
    },
    fileCheckAfterMs: {
      doc: "When a stopped recording's file has not been reported by the storage listener after this long, the reconciler looks in the bucket itself, in milliseconds.",
      format: "positive-int",
      default: 120000,
      env: "RECORDER_FILE_CHECK_AFTER_MS",
    },
    fileLostAfterMs: {
      doc: "A stopped recording whose file is still not in the bucket after this long fails as lost, in milliseconds.",
      format: "positive-int",
      default: 1800000,
      env: "RECORDER_FILE_LOST_AFTER_MS",
    },
    queuedTimeoutMs: {
      doc: "A recording still queued after this long without a start job gets its start job queued again, in milliseconds.",
      format: "positive-int",
      default: 60000,
      env: "RECORDER_QUEUED_TIMEOUT_MS",
    },
    lockDurationMs: {
      doc: "Lock of a job a recorder works on; when a recorder dies, its jobs are picked up by another one about this long later, in milliseconds.",
      format: "positive-int",
      default: 30000,
      env: "RECORDER_LOCK_DURATION_MS",
    },
  },
  profiles: {
    file: {
      doc: "JSON or YAML file with encoding profiles that add to or override the built-in ones; empty for none.",
      format: "optional-string",
      default: "",
      env: "PROFILES_FILE",
    },
    defaultName: {
      doc: "Profile used when a recording does not name one.",
      format: "required-string",
      default: "low-cpu",
      env: "DEFAULT_PROFILE",
    },
    defaultLayout: {
      doc: "Room composite layout when a recording does not name one.",
      format: LAYOUTS as unknown as string[],
      default: "speaker",
      env: "DEFAULT_LAYOUT",
    },
  },
  encoding: {
    maxWidth: {
      doc: "Largest width (pixels) a recording's encoding override may ask for.",
      format: "encoding-dimension",
      default: 1920,
      env: "ENCODING_MAX_WIDTH",
    },
    maxHeight: {
      doc: "Largest height (pixels) a recording's encoding override may ask for (1920 allows portrait 1080×1920).",
      format: "encoding-dimension",
      default: 1920,
      env: "ENCODING_MAX_HEIGHT",
    },
    maxFramerate: {
      doc: "Highest frame rate a recording's encoding override may ask for (1 to 60).",
      format: "encoding-framerate",
      default: 30,
      env: "ENCODING_MAX_FRAMERATE",
    },
    maxVideoBitrate: {
      doc: "Highest video bitrate (kbps) a recording's encoding override may ask for.",
      format: "positive-int",
      default: 6000,
      env: "ENCODING_MAX_VIDEO_BITRATE",
    },
    maxAudioBitrate: {
      doc: "Highest audio bitrate (kbps) a recording's encoding override may ask for.",
      format: "positive-int",
      default: 256,
      env: "ENCODING_MAX_AUDIO_BITRATE",
    },
    customBaseUrls: {
      doc: "Comma-separated http(s) base URLs of custom recording templates; a recording's customBaseUrl must start with one of them (same origin, path under it). Empty: recordings use egress' own template only.",
      format: "base-url-list",
      default: [],
      env: "ENCODING_CUSTOM_BASE_URLS",
    },
    webSourceUrls: {
      doc: "Comma-separated http(s) base URLs of the pages a recording's web source may open (same origin, path under one of them). Egress' Chrome loads the page inside the fleet's network, so only pages the operator trusts belong here. Empty: web sources are refused.",
      format: "base-url-list",
      default: [],
      env: "ENCODING_WEB_SOURCE_URLS",
    },
  },
  streams: {
    allowPrivateTargets: {
      doc: "Whether a recording's stream outputs may name loopback, private, link-local and other non-public hosts (IP literals, and names that resolve to one when the recording is created or changed). Off in production: egress runs inside the fleet's network, and a tenant's stream URL must not make it push media there. The sandbox turns it on for its local RTMP ingest.",
      format: "strict-boolean",
      default: false,
      env: "STREAMS_ALLOW_PRIVATE_TARGETS",
    },
  },
  recordings: {
    retentionDays: {
      doc: "Days a finished recording's record stays in Redis.",
      format: "positive-int",
      default: 30,
      env: "RECORDINGS_RETENTION_DAYS",
    },
    expireDays: {
      doc: "Days a saved recording's files are kept before recfleet deletes them from storage (the recording becomes expired; no bucket rule needed); 0: never. A tenant's expireDays (TENANTS_FILE) overrides it. Emailed links never outlive the files.",
      format: "expire-days",
      default: 0,
      env: "RECORDINGS_EXPIRE_DAYS",
    },
  },
  autoRecord: {
    file: {
      doc: "JSON or YAML file of auto-record rules: rooms (by name pattern) that record themselves when they start, or per participant or per track as they join or publish, and stop with them; each rule's recording spec, owner tenant and recipient. Empty: no room records itself. Checked at start; see docs/api.md.",
      format: "optional-string",
      default: "",
      env: "AUTO_RECORD_FILE",
    },
  },
  tenants: {
    file: {
      doc: "JSON or YAML file describing tenants (API consumers): their keys, scopes, allowed recipient domains, limits, expiry and callback endpoint; empty: every tenant comes from API_KEYS with the default scopes and no limits. Checked at start; see docs/api.md.",
      format: "optional-string",
      default: "",
      env: "TENANTS_FILE",
    },
  },
  mailer: {
    concurrency: {
      doc: "Emails one mailer process sends at once.",
      format: "positive-int",
      default: 5,
      env: "MAILER_CONCURRENCY",
    },
    linkExpirySeconds: {
      doc: "Validity of the presigned download link in emails, in seconds (at most 7 days, SigV4's limit).",
      format: "link-expiry-seconds",
      default: 604800,
      env: "MAILER_LINK_EXPIRY_SECONDS",
    },
    downloadUrlTemplate: {
      doc: "Download link template such as https://meet.example/recordings/{id}; empty to send presigned S3 links.",
      format: "optional-string",
      default: "",
      env: "MAILER_DOWNLOAD_URL_TEMPLATE",
    },
    watchBaseUrl: {
      doc: "The API's public URL (its API_PUBLIC_URL): each email then links a share link of the recording's watch page, revocable and expiring after MAILER_LINK_EXPIRY_SECONDS (or with the recording), instead of a presigned download. Empty: presigned links (or MAILER_DOWNLOAD_URL_TEMPLATE, which comes first).",
      format: "optional-string",
      default: "",
      env: "MAILER_WATCH_BASE_URL",
    },
    locale: {
      doc: "Default language of emails (en or fr).",
      format: ["en", "fr"],
      default: "en",
      env: "MAILER_LOCALE",
    },
    timeZone: {
      doc: "Time zone of dates in emails (IANA name).",
      format: "time-zone",
      default: "UTC",
      env: "MAILER_TIME_ZONE",
    },
    retryWindowMs: {
      doc: "How long transient SMTP failures are retried before the notification fails, in milliseconds.",
      format: "positive-int",
      default: 14400000,
      env: "MAILER_RETRY_WINDOW_MS",
    },
  },
  callbacks: {
    allowPrivateTargets: {
      doc: "Whether tenant callbacks may reach loopback, private, link-local and other non-public addresses (metadata services included). Off in production: a tenant's callback URL must not reach the fleet's own network. The sandbox turns it on for its local receiver.",
      format: "strict-boolean",
      default: false,
      env: "CALLBACKS_ALLOW_PRIVATE_TARGETS",
    },
    timeoutMs: {
      doc: "Longest one callback attempt may take, connecting, sending and reading the answer, in milliseconds (1 to 10000).",
      format: "callback-timeout-ms",
      default: 10000,
      env: "CALLBACKS_TIMEOUT_MS",
    },
    retryDelayMs: {
      doc: "Wait before the first retry of a failed callback, in milliseconds; each later wait doubles (±20 %), up to one hour, or longer when the receiver's Retry-After asks for it.",
      format: "positive-int",
      default: 5000,
      env: "CALLBACKS_RETRY_DELAY_MS",
    },
    retryWindowMs: {
      doc: "How long a callback is retried after its first failed attempt before it is given up, in milliseconds (default 26 hours).",
      format: "positive-int",
      default: 93600000,
      env: "CALLBACKS_RETRY_WINDOW_MS",
    },
  },
  listener: {
    resyncIntervalMs: {
      doc: "Period of the safety-net bucket re-scan of the storage listener, in milliseconds.",
      format: "positive-int",
      default: 300000,
      env: "LISTENER_RESYNC_INTERVAL_MS",
    },
    resyncMarginMs: {
      doc: "How far before the last checkpoint a re-scan starts, to cover clock skew and slow uploads, in milliseconds.",
      format: "non-negative-int",
      default: 300000,
      env: "LISTENER_RESYNC_MARGIN_MS",
    },
  },
  health: {
    port: {
      doc: "Port of a worker's health and metrics endpoint (/healthz, /readyz, /metrics); 0 picks a free port.",
      format: "port",
      default: 9464,
      env: "HEALTH_PORT",
    },
    host: {
      doc: "Address the health endpoint listens on.",
      format: "required-string",
      default: "0.0.0.0",
      env: "HEALTH_HOST",
    },
  },
  log: {
    level: {
      doc: "Log level.",
      format: LOG_LEVELS as unknown as string[],
      default: "info",
      env: "LOG_LEVEL",
    },
  },
};
