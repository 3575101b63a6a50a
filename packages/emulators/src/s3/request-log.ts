export interface RequestLogEntry {
  /** Increases by one per request since the emulator started. */
  seq: number;
  time: string;
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  status: number;
  /** The S3 operation the request was routed to, e.g. `PutObject`, `ListenBucketNotification`. */
  operation: string;
  requestId: string;
  /**
   * The request's headers, lowercase, so that a refused upload can be diagnosed (what encoding,
   * which checksum, which payload hash). Authorization keeps only its credential and signed
   * headers; a security token is not kept.
   */
  headers: Record<string, string>;
}

/** Headers fit for the log: the signature and any session token left out. */
export function loggableHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === "x-amz-security-token") continue;
    const text = Array.isArray(value) ? value.join(",") : value;
    kept[name] = name === "authorization" ? text.replace(/Signature=[0-9a-fA-F]+/, "Signature=…") : text;
  }
  return kept;
}

/** The last `capacity` S3 requests, for tests and the admin endpoint. */
export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];
  private nextSeq = 1;
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(entry: Omit<RequestLogEntry, "seq" | "time">): void {
    this.entries.push({ seq: this.nextSeq++, time: new Date().toISOString(), ...entry });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Entries with a sequence number above `afterSeq`, oldest first. */
  list(afterSeq = 0): RequestLogEntry[] {
    return this.entries.filter((entry) => entry.seq > afterSeq);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
