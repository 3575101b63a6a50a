// Bucket notification events in MinIO's format (internal/event): names, the prefix/suffix
// pattern, and the record a listener receives.

const CREATED = [
  "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectCreated:Copy",
  "s3:ObjectCreated:Post",
  "s3:ObjectCreated:Put",
  "s3:ObjectCreated:PutRetention",
  "s3:ObjectCreated:PutLegalHold",
  "s3:ObjectCreated:PutTagging",
  "s3:ObjectCreated:DeleteTagging",
];
const REMOVED = [
  "s3:ObjectRemoved:Delete",
  "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectRemoved:NoOP",
  "s3:ObjectRemoved:DeleteAllVersions",
];
const ACCESSED = [
  "s3:ObjectAccessed:Get",
  "s3:ObjectAccessed:Head",
  "s3:ObjectAccessed:GetRetention",
  "s3:ObjectAccessed:GetLegalHold",
  "s3:ObjectAccessed:Attributes",
];

const EXPANSIONS = new Map<string, readonly string[]>([
  ["s3:ObjectCreated:*", CREATED],
  ["s3:ObjectRemoved:*", REMOVED],
  ["s3:ObjectAccessed:*", ACCESSED],
  ["s3:BucketCreated:*", ["s3:BucketCreated:*"]],
  ["s3:BucketRemoved:*", ["s3:BucketRemoved:*"]],
  ...[...CREATED, ...REMOVED, ...ACCESSED].map((name) => [name, [name]] as const),
]);

/** The concrete event names a requested name stands for (`s3:ObjectCreated:*` → all creations). */
export function expandEventName(name: string): readonly string[] | undefined {
  return EXPANSIONS.get(name);
}

/** MinIO's event.NewPattern: `prefix*` + `*suffix`, `**` collapsed; empty matches everything. */
export function filterPattern(prefix: string, suffix: string): string {
  let pattern = "";
  if (prefix !== "") pattern = prefix.endsWith("*") ? prefix : `${prefix}*`;
  if (suffix !== "") pattern += suffix.startsWith("*") ? suffix : `*${suffix}`;
  return pattern.replace(/\*\*/g, "*");
}

/** Wildcard match where only `*` is special (MinIO's wildcard.MatchSimple). */
export function matchPattern(pattern: string, text: string): boolean {
  if (pattern === "" || pattern === "*") return true;
  const pieces = pattern.split("*");
  const first = pieces[0] ?? "";
  if (pieces.length === 1) return text === first;
  if (!text.startsWith(first)) return false;
  const last = pieces[pieces.length - 1] ?? "";
  let position = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = text.indexOf(piece, position);
    if (found < 0) return false;
    position = found + piece.length;
  }
  return text.length - last.length >= position && text.endsWith(last);
}

/** What the server knows about the request that caused an event. */
export interface EventSource {
  accessKey: string;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  hostId: string;
  deploymentId: string;
  endpoint: string;
  /** The site region, "" when none is configured (MinIO's default). */
  region: string;
}

export interface EventObject {
  key: string;
  size?: number;
  etag?: string;
  contentType?: string;
  userMetadata?: Readonly<Record<string, string>>;
  /** The object's modification time in Unix nanoseconds; drives the sequencer (deletes have none). */
  modTimeNs?: bigint;
}

export interface S3EventNotification {
  eventName: string;
  bucket: string;
  key: string;
  /** The JSON record exactly as MinIO writes it in a listen stream. */
  record: Record<string, unknown>;
}

const sorted = (map: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

let lastNs = 0n;

/**
 * Now in Unix nanoseconds, strictly increasing within the process: MinIO's ModTime has
 * nanosecond resolution, so two writes in one millisecond still get distinct sequencers.
 */
export function nowNs(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNs = wall > lastNs ? wall : lastNs + 1n;
  return lastNs;
}

/** MinIO's sequencer: the modification time in nanoseconds, upper-case hex. */
function sequencer(ns: bigint): string {
  return ns.toString(16).toUpperCase();
}

/**
 * Builds the record of one event. Field order follows Go's struct order and maps are sorted, as
 * encoding/json writes them; size, eTag, contentType and userMetadata are left out when empty
 * (omitempty), and always for removals. The key is raw: the listen API does not escape it.
 */
export function buildEvent(
  eventName: string,
  bucket: string,
  object: EventObject,
  source: EventSource,
  now: Date,
): S3EventNotification {
  const removal = eventName.startsWith("s3:ObjectRemoved:");
  const objectFields: Record<string, unknown> = { key: object.key };
  if (!removal) {
    if (object.size) objectFields.size = object.size;
    if (object.etag) objectFields.eTag = object.etag;
    if (object.contentType) objectFields.contentType = object.contentType;
    if (object.userMetadata && Object.keys(object.userMetadata).length > 0) {
      objectFields.userMetadata = sorted(object.userMetadata);
    }
  }
  objectFields.sequencer = sequencer(object.modTimeNs ?? nowNs());
  const record = {
    eventVersion: "2.0",
    eventSource: "minio:s3",
    awsRegion: source.region,
    eventTime: now.toISOString(),
    eventName,
    userIdentity: { principalId: source.accessKey },
    requestParameters: sorted({
      principalId: source.accessKey,
      region: source.region,
      sourceIPAddress: source.sourceIp,
    }),
    responseElements: sorted({
      "x-amz-id-2": source.hostId,
      "x-amz-request-id": source.requestId,
      "x-minio-deployment-id": source.deploymentId,
      "x-minio-origin-endpoint": source.endpoint,
    }),
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "Config",
      bucket: {
        name: bucket,
        ownerIdentity: { principalId: source.accessKey },
        arn: `arn:aws:s3:::${bucket}`,
      },
      object: objectFields,
    },
    source: { host: source.sourceIp, port: "", userAgent: source.userAgent },
  };
  return { eventName, bucket, key: object.key, record };
}

/** Go's json.Encoder escapes these; doing the same keeps lines byte-identical to MinIO's. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** One line of a listen stream: `{"Records":[<record>]}\n`. */
export function eventLine(event: S3EventNotification): string {
  return `${goJson({ Records: [event.record] })}\n`;
}

/** The keep-alive line sent every `ping` seconds when the client asked for one. */
export const EMPTY_RECORDS_LINE = '{"Records":null}\n';
