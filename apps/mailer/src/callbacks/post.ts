import http from "node:http";
import https from "node:https";
import { checkTargetUrl, guardedLookup, type Resolver, TargetRefusedError } from "./target.ts";

/** At most this much of an answer is read: enough for an error message, never a flood. */
export const MAX_ANSWER_BYTES = 4096;

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (shutdown); it then counts as a network failure, retried later. */
  signal: AbortSignal;
  resolve?: Resolver;
}

export type PostResult =
  | { kind: "answered"; statusCode: number; retryAfterMs: number | null; excerpt: string }
  | { kind: "refused"; reason: string }
  | { kind: "network"; reason: string };

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function retryAfterMs(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

// Only printable characters of the receiver's answer reach the delivery log.
function excerptOf(chunks: Buffer[]): string {
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/[\p{Cc}\p{Cf}]+/gu, " ")
    .trim()
    .slice(0, 200);
}

/**
 * One POST to a callback URL: the SSRF checks, no redirect followed (node:http follows none),
 * the whole attempt bounded by `timeoutMs` and at most MAX_ANSWER_BYTES of the answer read.
 */
export function postCallback(request: PostRequest): Promise<PostResult> {
  let url: URL;
  try {
    url = checkTargetUrl(request.url, request.allowPrivate);
  } catch (error) {
    return Promise.resolve({ kind: "refused", reason: (error as Error).message });
  }
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const outgoing = client.request(
      url,
      {
        method: "POST",
        headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
        lookup: guardedLookup(request.allowPrivate, request.resolve),
        // A fresh connection per attempt: its address is checked by the lookup every time.
        agent: false,
        signal,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const finish = () =>
          settle({
            kind: "answered",
            statusCode: answer.statusCode ?? 0,
            retryAfterMs: retryAfterMs(answer.headers["retry-after"], Date.now()),
            excerpt: excerptOf(chunks),
          });
        answer.on("data", (chunk: Buffer) => {
          const room = MAX_ANSWER_BYTES - read;
          if (room > 0) chunks.push(chunk.subarray(0, room));
          read += chunk.length;
          if (read >= MAX_ANSWER_BYTES) {
            finish();
            answer.destroy();
          }
        });
        answer.on("end", finish);
        answer.on("error", finish);
        answer.on("aborted", finish);
      },
    );
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof TargetRefusedError) return settle({ kind: "refused", reason: error.message });
      if (timeout.aborted) {
        return settle({ kind: "network", reason: `no answer within ${request.timeoutMs} ms` });
      }
      if (request.signal.aborted) return settle({ kind: "network", reason: "interrupted by a shutdown" });
      settle({ kind: "network", reason: `${error.code ?? "network error"}: ${error.message}`.slice(0, 200) });
    });
    outgoing.end(request.body);
  });
}
