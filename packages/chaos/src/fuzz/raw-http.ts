import { connect } from "node:net";

/** A request exactly as it goes on the wire: the fuzzer controls every byte. */
export interface RawRequest {
  category: string;
  /** A short, printable description for the report. */
  label: string;
  bytes: Buffer;
  /**
   * The server may rightly answer nothing: the request is incomplete on purpose (a body shorter
   * than its Content-Length), so only the client hanging up ends it.
   */
  incomplete?: boolean;
  /** A well-formed but wrong API key: counted by the API as a failed authentication. */
  guess?: boolean;
}

export interface RawAnswer {
  status: number | null;
  headers: Record<string, string>;
  body: string;
  ms: number;
  /** Why no answer was read (connection refused, reset, timeout). */
  error?: string;
}

const MAX_ANSWER_BYTES = 256 * 1024;

function parseAnswer(all: Buffer): Pick<RawAnswer, "status" | "headers" | "body"> {
  // An interim answer (100 Continue) comes before the real one: skip it.
  let data = all;
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.toString("latin1", 0, 13))) {
    const end = data.indexOf("\r\n\r\n");
    if (end === -1) break;
    data = data.subarray(end + 4);
  }
  const text = data.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  // latin1 maps bytes to characters one to one: a character index is a byte offset.
  const raw = end === -1 ? Buffer.alloc(0) : data.subarray(end + 4);
  const chunked = /chunked/i.test(headers["transfer-encoding"] ?? "");
  const body = (chunked ? dechunk(raw) : raw).toString("utf8");
  return { status: match ? Number(match[1]) : null, headers, body };
}

/** The payload of a chunked body (as much of it as arrived). */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(raw.toString("latin1", at, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Sends one raw request on a fresh connection and reads the answer until the server closes
 * (requests say `Connection: close`), the answer is complete, or `timeoutMs` passes. Writes
 * that fail because the server already answered and closed (a 413 before the whole body) are
 * not errors: the answer is what counts.
 */
export function sendRaw(
  host: string,
  port: number,
  request: RawRequest,
  timeoutMs: number,
): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const socket = connect({ host, port });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      const parsed = parseAnswer(data);
      resolve({
        ...parsed,
        ms: Date.now() - started,
        ...(parsed.status === null && error ? { error } : {}),
      });
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    // No half-close after the request: Node's HTTP server (httpAllowHalfOpen false) aborts a
    // request whose client sent FIN before the answer. Every request says Connection: close.
    socket.on("connect", () => socket.write(request.bytes));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= MAX_ANSWER_BYTES) finish();
      else if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on("close", () => finish("closed without an answer"));
  });
}

/** An answer is complete once its Content-Length is in, or its last chunk for a chunked one. */
function isComplete(data: Buffer): boolean {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1 || /^HTTP\/1\.[01] 1\d\d /.test(data.toString("latin1", 0, 13))) return false;
  const head = data.subarray(0, headEnd).toString("latin1");
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head))
    return data.subarray(headEnd + 4).includes("0\r\n\r\n");
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!length) return false;
  return data.length - (headEnd + 4) >= Number(length[1]);
}
