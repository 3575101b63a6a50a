// The aws-chunked body encoding that SDKs send when they stream an upload: chunks framed as
// `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a zero-size last chunk, and optional
// trailing headers (a checksum, and for signed streams the trailer's own signature). Decoded and
// verified as MinIO does (cmd/streaming-signature-v4.go, cmd/streaming-v4-unsigned.go).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { S3Error } from "./errors.ts";

export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
export const STREAMING_PAYLOADS: readonly string[] = [
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
];

/** MinIO's maxChunkSize. */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_LINE_BYTES = 4096;
/** A checksum, its signature, and room for a few more: an endless trailer is refused. */
const MAX_TRAILER_LINES = 16;
const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/** What verifies a signed stream: the seed (the request's own signature) and its scope. */
export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  /** `<date>/<region>/s3/aws4_request`. */
  scope: string;
  seedSignature: string;
}

export interface ChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-*: every chunk (and the trailer) is signed. */
  signing?: ChunkSigning;
  /** Trailers the request declared in x-amz-trailer (lowercase); each must arrive, no other. */
  trailers: readonly string[];
}

type State = "size" | "data" | "data-end" | "trailer" | "last-crlf" | "done";

function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given.toLowerCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Decodes an aws-chunked stream into its payload; `trailers` holds the trailing headers after it ends. */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private readonly options: ChunkedOptions;
  private state: State = "size";
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature = "";
  private chunkHash: Hash | undefined;
  private previousSignature: string;
  private readonly trailerLines: string[] = [];

  constructor(options: ChunkedOptions) {
    super();
    this.options = options;
    this.previousSignature = options.signing?.seedSignature ?? "";
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.drain();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== "done" || this.pending.length > 0) {
      callback(new S3Error(this.state === "done" ? "MalformedChunkedEncoding" : "IncompleteBody"));
      return;
    }
    callback();
  }

  /** The next CRLF-terminated line, without it; undefined until it is all here. */
  private line(): string | undefined {
    const end = this.pending.indexOf("\n");
    if (end < 0) {
      if (this.pending.length > MAX_LINE_BYTES) throw new S3Error("MalformedChunkedEncoding");
      return undefined;
    }
    if (end > MAX_LINE_BYTES) throw new S3Error("MalformedChunkedEncoding");
    const text = this.pending.subarray(0, end).toString("latin1");
    this.pending = this.pending.subarray(end + 1);
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  }

  private drain(): void {
    for (;;) {
      switch (this.state) {
        case "size": {
          const line = this.line();
          if (line === undefined) return;
          this.startChunk(line);
          break;
        }
        case "data": {
          if (this.pending.length === 0) return;
          const take = this.pending.subarray(0, Math.min(this.remaining, this.pending.length));
          this.pending = this.pending.subarray(take.length);
          this.remaining -= take.length;
          this.chunkHash?.update(take);
          this.push(take);
          if (this.remaining === 0) {
            // The signature covers the chunk's data: checked once it is all here. A bad one
            // fails the upload, whose received bytes are then discarded.
            this.verifyChunk();
            this.state = "data-end";
          }
          break;
        }
        case "data-end": {
          if (this.pending.length < 2) return;
          if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a)
            throw new S3Error("MalformedChunkedEncoding");
          this.pending = this.pending.subarray(2);
          this.state = "size";
          break;
        }
        case "trailer": {
          const line = this.line();
          if (line === undefined) return;
          if (line === "") this.endTrailers();
          else if (this.trailerLines.length >= MAX_TRAILER_LINES)
            throw new S3Error("MalformedChunkedEncoding");
          else this.trailerLines.push(line);
          break;
        }
        case "last-crlf": {
          const line = this.line();
          if (line === undefined) return;
          if (line !== "") throw new S3Error("MalformedChunkedEncoding");
          this.state = "done";
          break;
        }
        case "done":
          if (this.pending.length > 0) throw new S3Error("MalformedChunkedEncoding");
          return;
      }
    }
  }

  private startChunk(line: string): void {
    const [sizeText = "", ...extensions] = line.split(";");
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new S3Error("MalformedChunkedEncoding");
    const size = Number.parseInt(sizeText, 16);
    if (size > MAX_CHUNK_BYTES) throw new S3Error("ChunkTooBig");
    if (this.options.signing) {
      const signature = extensions.find((part) => part.startsWith("chunk-signature="));
      if (!signature || !/^[0-9a-f]{64}$/i.test(signature.slice("chunk-signature=".length))) {
        throw new S3Error("MalformedChunkedEncoding");
      }
      this.chunkSignature = signature.slice("chunk-signature=".length);
      this.chunkHash = createHash("sha256");
    }
    if (size === 0) {
      this.verifyChunk();
      this.state = this.options.trailers.length > 0 ? "trailer" : "last-crlf";
      return;
    }
    this.remaining = size;
    this.state = "data";
  }

  private hmac(stringToSign: string): string {
    const { signing } = this.options;
    if (!signing) return "";
    return createHmac("sha256", signing.signingKey).update(stringToSign).digest("hex");
  }

  private verifyChunk(): void {
    const { signing } = this.options;
    if (!signing || !this.chunkHash) return;
    const expected = this.hmac(
      [
        "AWS4-HMAC-SHA256-PAYLOAD",
        signing.amzDate,
        signing.scope,
        this.previousSignature,
        EMPTY_SHA256,
        this.chunkHash.digest("hex"),
      ].join("\n"),
    );
    this.chunkHash = undefined;
    if (!sameHex(expected, this.chunkSignature)) throw new S3Error("SignatureDoesNotMatch");
    this.previousSignature = this.chunkSignature;
  }

  private endTrailers(): void {
    const { signing, trailers } = this.options;
    let trailerSignature: string | undefined;
    const signed: string[] = [];
    for (const line of this.trailerLines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new S3Error("MalformedChunkedEncoding");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "x-amz-trailer-signature") {
        trailerSignature = value;
        continue;
      }
      if (!trailers.includes(name)) throw new S3Error("MalformedChunkedEncoding");
      this.trailers.set(name, value);
      signed.push(`${name}:${value}\n`);
    }
    if (trailers.some((name) => !this.trailers.has(name))) throw new S3Error("MalformedChunkedEncoding");
    if (signing) {
      if (trailerSignature === undefined) throw new S3Error("MalformedChunkedEncoding");
      const expected = this.hmac(
        [
          "AWS4-HMAC-SHA256-TRAILER",
          signing.amzDate,
          signing.scope,
          this.previousSignature,
          createHash("sha256").update(signed.join("")).digest("hex"),
        ].join("\n"),
      );
      if (!sameHex(expected, trailerSignature)) throw new S3Error("SignatureDoesNotMatch");
    }
    this.state = "done";
  }
}
