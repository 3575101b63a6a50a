// aws-chunked uploads signed by hand, chunk by chunk, with a signer written here from AWS's
// description (not the emulator's own code): valid chains are stored, a broken one stores
// nothing. https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll, startTestS3, type TestS3 } from "./s3-support.ts";

let s3: TestS3;
const BUCKET = "chunked";
const REGION = "us-east-1";

beforeAll(async () => {
  s3 = await startTestS3({ buckets: [BUCKET] });
});
afterAll(async () => {
  await s3?.close();
});

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

function signingKey(secret: string, date: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), REGION), "s3"), "aws4_request");
}

interface StreamOptions {
  payload:
    | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    | "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  chunks: Buffer[];
  /** A trailing checksum header line, e.g. `x-amz-checksum-crc32:…`. */
  trailer?: { name: string; value: string };
  /** More trailing headers, declared in x-amz-trailer too (value "1"). */
  extraTrailers?: string[];
  /** Changes the signature of chunk `n` (0-based), or of the trailer (-1). */
  tamper?: number;
  /** Declares this decoded length instead of the real one. */
  decodedLength?: number;
  /** Cuts the encoded body after this many bytes. */
  truncateAt?: number;
}

/** Sends a PUT of `chunks` as aws-chunked, signed the way SDKs sign it; answers status and body. */
async function putChunked(key: string, options: StreamOptions): Promise<{ status: number; body: string }> {
  const now = new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${REGION}/s3/aws4_request`;
  const { accessKey, secretKey } = { accessKey: s3.emulator.accessKey, secretKey: s3.emulator.secretKey };
  const key4 = signingKey(secretKey, date);
  const decoded = options.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const host = `127.0.0.1:${s3.emulator.port}`;
  const headers: Record<string, string> = {
    host,
    "content-encoding": "aws-chunked",
    "x-amz-content-sha256": options.payload,
    "x-amz-date": amzDate,
    "x-amz-decoded-content-length": String(options.decodedLength ?? decoded),
    ...(options.trailer
      ? { "x-amz-trailer": [options.trailer.name, ...(options.extraTrailers ?? [])].join(",") }
      : {}),
  };
  const signedNames = Object.keys(headers).sort();
  const canonical = [
    "PUT",
    `/${BUCKET}/${key}`,
    "",
    `${signedNames.map((name) => `${name}:${headers[name]}`).join("\n")}\n`,
    signedNames.join(";"),
    options.payload,
  ].join("\n");
  const seed = hmac(key4, ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n")).toString("hex");
  const signed = options.payload !== "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  let previous = seed;
  const parts: Buffer[] = [];
  const all = [...options.chunks, Buffer.alloc(0)];
  for (const [index, chunk] of all.entries()) {
    let line = chunk.length.toString(16);
    if (signed) {
      let signature = hmac(
        key4,
        ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, previous, sha256(""), sha256(chunk)].join("\n"),
      ).toString("hex");
      if (options.tamper === index) signature = signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      previous = signature;
      line += `;chunk-signature=${signature}`;
    }
    parts.push(Buffer.from(`${line}\r\n`), chunk);
    // The last chunk's empty data is followed by the trailers, when there are any.
    if (chunk.length > 0 || !options.trailer) parts.push(Buffer.from("\r\n"));
  }
  if (options.trailer) {
    const trailerLine = [
      `${options.trailer.name}:${options.trailer.value}`,
      ...(options.extraTrailers ?? []).map((name) => `${name}:1`),
    ].join("\r\n");
    parts.push(Buffer.from(`${trailerLine}\r\n`));
    if (signed) {
      let signature = hmac(
        key4,
        ["AWS4-HMAC-SHA256-TRAILER", amzDate, scope, previous, sha256(`${trailerLine}\n`)].join("\n"),
      ).toString("hex");
      if (options.tamper === -1) signature = signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      parts.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`));
    }
    parts.push(Buffer.from("\r\n"));
  }
  let body = Buffer.concat(parts);
  if (options.truncateAt !== undefined) body = body.subarray(0, options.truncateAt);
  const authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedNames.join(";")}, Signature=${seed}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: s3.emulator.port,
        method: "PUT",
        path: `/${BUCKET}/${key}`,
        headers: { ...headers, authorization, "content-length": String(body.length) },
      },
      (res) => {
        const received: Buffer[] = [];
        res.on("data", (chunk: Buffer) => received.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(received).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const pattern = (length: number, seed: number) =>
  Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff));

async function stored(key: string): Promise<Buffer | undefined> {
  try {
    return await readAll(await s3.client.getObject(BUCKET, key));
  } catch {
    return undefined;
  }
}

describe("aws-chunked uploads", () => {
  it("stores a signed stream whose every chunk signature is right", async () => {
    const chunks = [pattern(65_536, 1), pattern(65_536, 2), pattern(1000, 3)];
    const answer = await putChunked("signed.bin", { payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunks });
    expect(answer.status).toBe(200);
    expect(await stored("signed.bin")).toEqual(Buffer.concat(chunks));
  });

  it("refuses a chunk whose signature is wrong with SignatureDoesNotMatch, and stores nothing", async () => {
    const chunks = [pattern(65_536, 4), pattern(500, 5)];
    const answer = await putChunked("tampered.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      chunks,
      tamper: 1,
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(await stored("tampered.bin")).toBeUndefined();
  });

  it("checks a signed trailer and its checksum", async () => {
    const chunks = [pattern(70_000, 6)];
    const crc = Buffer.alloc(4);
    const { crc32 } = await import("node:zlib");
    crc.writeUInt32BE(crc32(chunks[0] ?? Buffer.alloc(0)) >>> 0);
    const trailer = { name: "x-amz-checksum-crc32", value: crc.toString("base64") };
    const good = await putChunked("trailer.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      chunks,
      trailer,
    });
    expect(good.status).toBe(200);
    const stat = await s3.client.statObject(BUCKET, "trailer.bin");
    expect(stat.size).toBe(70_000);
    const badSignature = await putChunked("trailer-bad-sig.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      chunks,
      trailer,
      tamper: -1,
    });
    expect(badSignature.status).toBe(403);
    const badChecksum = await putChunked("trailer-bad-crc.bin", {
      payload: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      chunks,
      trailer: { name: "x-amz-checksum-crc32", value: "AAAAAA==" },
    });
    expect(badChecksum.status).toBe(400);
    expect(badChecksum.body).toContain("<Code>XAmzContentChecksumMismatch</Code>");
    expect(await stored("trailer-bad-sig.bin")).toBeUndefined();
    expect(await stored("trailer-bad-crc.bin")).toBeUndefined();
  });

  it("refuses an endless trailer as malformed, and stores nothing", async () => {
    // Every line declared, so only its length is wrong.
    const extraTrailers = Array.from({ length: 40 }, (_, i) => `x-amz-extra-${i}`);
    const answer = await putChunked("endless-trailer.bin", {
      payload: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      chunks: [pattern(100, 8)],
      trailer: { name: "x-amz-checksum-crc32", value: "AAAAAA==" },
      extraTrailers,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("<Code>BadRequest</Code>");
    expect(await stored("endless-trailer.bin")).toBeUndefined();
  });

  it("refuses a body shorter or longer than its decoded length, or cut short, with IncompleteBody", async () => {
    const chunks = [pattern(1000, 7)];
    const longer = await putChunked("short.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      chunks,
      decodedLength: 2000,
    });
    expect(longer.body).toContain("<Code>IncompleteBody</Code>");
    // More bytes than declared: refused as they arrive, nothing stored.
    const overlong = await putChunked("long.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      chunks,
      decodedLength: 10,
    });
    expect(overlong.body).toContain("<Code>IncompleteBody</Code>");
    expect(await stored("long.bin")).toBeUndefined();
    const cut = await putChunked("cut.bin", {
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      chunks,
      truncateAt: 500,
    });
    expect(cut.body).toContain("<Code>IncompleteBody</Code>");
    expect(await stored("short.bin")).toBeUndefined();
    expect(await stored("cut.bin")).toBeUndefined();
  });
});

describe("MinIO's force delete", () => {
  it("removes a key and everything under it as a prefix, and nothing else", async () => {
    for (const key of ["talks/a.mp4", "talks/b/c.mp4", "talks-other.mp4", "kept.mp4"]) {
      await s3.client.putObject(BUCKET, key, Buffer.from("x"), 1);
    }
    // minio-js' own test names the prefix with a leading slash; MinIO cleans it off.
    const answer = await fetch(await s3.client.presignedUrl("DELETE", BUCKET, "/talks/", 60), {
      method: "DELETE",
      headers: { "x-minio-force-delete": "true" },
    });
    expect(answer.status).toBe(204);
    expect(await stored("talks/a.mp4")).toBeUndefined();
    expect(await stored("talks/b/c.mp4")).toBeUndefined();
    expect(await stored("talks-other.mp4")).toBeDefined();
    expect(await stored("kept.mp4")).toBeDefined();
  });
});

describe("what the emulator refuses rather than silently drops", () => {
  it("answers 501 to a bucket with Object Lock and to a PUT with tags", async () => {
    const lock = await fetch(await s3.client.presignedUrl("PUT", "locked-bucket", "", 60), {
      method: "PUT",
      headers: { "x-amz-bucket-object-lock-enabled": "true" },
    });
    expect(lock.status).toBe(501);
    expect(await s3.client.bucketExists("locked-bucket")).toBe(false);
    const tagged = await fetch(await s3.client.presignedUrl("PUT", BUCKET, "tagged.txt", 60), {
      method: "PUT",
      headers: { "x-amz-tagging": "room=a" },
      body: "tagged",
    });
    expect(tagged.status).toBe(501);
    expect(await tagged.text()).toContain("x-amz-tagging is not supported");
    expect(await stored("tagged.txt")).toBeUndefined();
  });

  it("answers a POST policy upload (signed in its form) 501, not 403 as if unsigned", async () => {
    const form = new FormData();
    form.append("key", "posted.txt");
    form.append("file", new Blob(["posted"]), "posted.txt");
    const answer = await fetch(`http://127.0.0.1:${s3.emulator.port}/${BUCKET}`, {
      method: "POST",
      body: form,
    });
    expect(answer.status).toBe(501);
    expect(await answer.text()).toContain("POST policy uploads is not implemented by this emulator.");
  });

  it("keeps request headers in the request log, without the signature", async () => {
    await s3.client.putObject(BUCKET, "logged.txt", Buffer.from("logged"), 6, {
      "Content-Type": "text/plain",
    });
    const entry = s3.emulator.requests().findLast((request) => request.path === `/${BUCKET}/logged.txt`);
    expect(entry?.headers["content-type"]).toBe("text/plain");
    expect(entry?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=.*Signature=…$/);
  });
});
