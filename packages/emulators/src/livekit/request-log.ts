/** One request to the Twirp API as the admin listing shows it. */
export interface RecordedRequest {
  seq: number;
  at: string;
  httpMethod: string;
  path: string;
  /** The Twirp method (`StartRoomCompositeEgress` …) when the path named one. */
  method: string | null;
  requestId: string | null;
  contentType: string | null;
  /**
   * The body exactly as sent: parsed JSON when it was JSON, the decoded message (camelCase) for
   * protobuf, the raw text otherwise. It includes storage credentials: this listing is for tests.
   */
  body: unknown;
  /** Whether the Authorization header carried a valid token for a known key. */
  authOk: boolean;
  authError: string | null;
  /** Whether the token granted `video.roomRecord`. */
  roomRecord: boolean;
  status: number | null;
  /** The Twirp error code when the answer was an error. */
  code: string | null;
  egressId: string | null;
  /** Set when the client had gone before the (delayed) answer was written. */
  clientGone: boolean;
}

/** Keeps the most recent requests, oldest first. */
export class RequestLog {
  private readonly entries: RecordedRequest[] = [];
  private readonly limit: number;
  private seq = 0;

  constructor(limit = 10_000) {
    this.limit = limit;
  }

  record(entry: Omit<RecordedRequest, "seq">): RecordedRequest {
    this.seq += 1;
    const recorded = { seq: this.seq, ...entry };
    this.entries.push(recorded);
    if (this.entries.length > this.limit) this.entries.shift();
    return recorded;
  }

  list(): RecordedRequest[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.entries.length = 0;
  }
}
