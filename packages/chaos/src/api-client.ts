export interface ApiAnswer<T> {
  status: number;
  headers: Headers;
  body: T | undefined;
  text: string;
  ms: number;
}

export interface ApiRequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Every answer the driver got, by status, and the 5xx ones with when and where. */
export interface ApiCallStats {
  byStatus: Record<string, number>;
  serverErrors: { at: number; method: string; path: string; status: number; detail: string }[];
  networkErrors: number;
}

/**
 * The public API as a client sees it: bearer key, JSON, a timeout on every call (a request that
 * hangs is a finding, not a stuck test) and a tally of what came back.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  readonly stats: ApiCallStats = { byStatus: {}, serverErrors: [], networkErrors: 0 };

  constructor(baseUrl: string, apiKey: string) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
  }

  async request<T>(method: string, path: string, options: ApiRequestOptions = {}): Promise<ApiAnswer<T>> {
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
      });
    } catch (error) {
      this.stats.networkErrors += 1;
      throw error;
    }
    const text = await response.text();
    const status = response.status;
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
    if (status >= 500) {
      this.stats.serverErrors.push({ at: started, method, path, status, detail: text.slice(0, 300) });
    }
    let body: T | undefined;
    try {
      body = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      body = undefined;
    }
    return { status, headers: response.headers, body, text, ms: Date.now() - started };
  }
}
