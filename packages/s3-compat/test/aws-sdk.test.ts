// The AWS SDK for JavaScript v3 — a real S3 client nobody here wrote — with its defaults,
// against the S3 emulator process: what current uploaders send (aws-chunked bodies, flexible
// checksums), what they read back (checksums, presigned overrides), and server-side copies.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { type RunningProcess, spawnTs } from "@recfleet/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../../emulators/src/s3/cli.ts", import.meta.url));
const BUCKET = "compat";
const CREDENTIALS = { accessKeyId: "compat-access", secretAccessKey: "compat-secret-key" };
const MiB = 1024 * 1024;

let dataDir: string;
let emulator: RunningProcess;
let endpoint: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "s3-compat-"));
  emulator = spawnTs(
    CLI,
    ["--port=0", `--data-dir=${dataDir}`, `--bucket=${BUCKET}`, `--access-key=${CREDENTIALS.accessKeyId}`],
    {
      env: { MINIO_ROOT_PASSWORD: CREDENTIALS.secretAccessKey },
    },
  );
  const line = await emulator.waitForLine(/"msg":"s3 emulator listening"/);
  endpoint = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
});

afterAll(async () => {
  await emulator?.stop("SIGTERM");
  await rm(dataDir, { recursive: true, force: true });
});

function client(config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...config,
  });
}

/** Deterministic bytes (no randomness in tests): a repeating pattern offset by `seed`. */
function bytes(length: number, seed = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** A stream of `data` in uneven pieces, with no length known up front. */
function streamOf(data: Buffer, piece = 64 * 1024 + 7): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      this.push(data.subarray(offset, offset + piece));
      offset += piece;
    },
  });
}

interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  headers: Record<string, string>;
}

/** The requests the emulator received for a key, from its request log. */
async function requestsFor(key: string): Promise<LoggedRequest[]> {
  const response = await fetch(`${endpoint}/_admin/requests`, { signal: AbortSignal.timeout(10_000) });
  const { requests } = (await response.json()) as { requests: LoggedRequest[] };
  return requests.filter((request) => decodeURIComponent(request.path) === `/${BUCKET}/${key}`);
}

async function read(key: string, s3 = client()): Promise<Buffer> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
}

async function failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return error;
    throw error;
  }
  throw new Error("expected the request to fail");
}

describe("the default client (flexible checksums when supported)", () => {
  it("puts a buffer with its CRC32 and reads it back verified", async () => {
    const s3 = client();
    const data = bytes(300_000, 1);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "default/buffer.bin", Body: data }),
    );
    expect(put.ChecksumCRC32).toBeDefined();
    const got = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: "default/buffer.bin", ChecksumMode: "ENABLED" }),
    );
    expect(got.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toEqual(data);
  });

  it("puts a stream as an aws-chunked body with a trailing CRC32", async () => {
    const s3 = client();
    const data = bytes(3 * MiB + 123, 2);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "default/stream.bin",
        Body: streamOf(data),
        ContentLength: data.length,
      }),
    );
    expect(await read("default/stream.bin", s3)).toEqual(data);
    const [put] = (await requestsFor("default/stream.bin")).filter((request) => request.method === "PUT");
    expect(put?.status).toBe(200);
    expect(put?.headers).toMatchObject({
      "content-encoding": "aws-chunked",
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "x-amz-trailer": "x-amz-checksum-crc32",
      "x-amz-decoded-content-length": String(data.length),
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "default/stream.bin", ChecksumMode: "ENABLED" }),
    );
    expect(head.ContentLength).toBe(data.length);
    expect(head.ChecksumCRC32).toBeDefined();
  });

  it("uploads 12 MiB from a stream as a multipart upload with per-part checksums (lib-storage)", async () => {
    const s3 = client();
    const data = bytes(12 * MiB + 5, 3);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: BUCKET,
        Key: "default/multipart.bin",
        Body: streamOf(data),
        ContentType: "video/mp4",
      },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const done = await upload.done();
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    expect(await read("default/multipart.bin", s3)).toEqual(data);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "default/multipart.bin", ChecksumMode: "ENABLED" }),
    );
    expect(head.ContentType).toBe("video/mp4");
    expect(head.ChecksumCRC32).toMatch(/-3$/);
    expect(head.ChecksumType).toBe("COMPOSITE");
  });
});

describe("a WHEN_REQUIRED client", () => {
  const s3 = () =>
    client({ requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });

  it("puts without any checksum", async () => {
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: "required/plain.txt", Body: "plain" }));
    const head = await s3().send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "required/plain.txt", ChecksumMode: "ENABLED" }),
    );
    expect(head.ChecksumCRC32).toBeUndefined();
    expect((await read("required/plain.txt")).toString()).toBe("plain");
  });

  it("streams an aws-chunked body once a checksum algorithm is named", async () => {
    const data = bytes(2 * MiB + 9, 4);
    await s3().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "required/named.bin",
        Body: streamOf(data),
        ContentLength: data.length,
        ChecksumAlgorithm: "SHA256",
      }),
    );
    expect(await read("required/named.bin")).toEqual(data);
    const [put] = (await requestsFor("required/named.bin")).filter((request) => request.method === "PUT");
    expect(put?.headers).toMatchObject({
      "content-encoding": "aws-chunked",
      "x-amz-trailer": "x-amz-checksum-sha256",
    });
    const head = await s3().send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: "required/named.bin", ChecksumMode: "ENABLED" }),
    );
    expect(head.ChecksumSHA256).toBeDefined();
  });
});

describe("every checksum algorithm", () => {
  const algorithms: ChecksumAlgorithm[] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];
  for (const algorithm of algorithms) {
    it(`${algorithm}: verified on the way in, stored, and returned with x-amz-checksum-mode`, async () => {
      const s3 = client();
      const key = `algorithms/${algorithm}.bin`;
      const data = bytes(100_003, algorithm.length);
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ChecksumAlgorithm: algorithm }),
      );
      const field = `Checksum${algorithm}` as const;
      expect(put[field]).toBeDefined();
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
      expect(got[field]).toBe(put[field]);
      expect(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toEqual(data);
    });
  }

  it("refuses a wrong checksum and stores nothing", async () => {
    const s3 = client();
    const error = await failure(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: "algorithms/wrong.bin",
          Body: "some bytes",
          ChecksumCRC32: "AAAAAA==",
        }),
      ),
    );
    expect(error.name).toBe("XAmzContentChecksumMismatch");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(
      (await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "algorithms/wrong.bin" }))))
        .$metadata.httpStatusCode,
    ).toBe(404);
  });

  it("combines a multipart upload's part checksums: COMPOSITE for SHA-256, FULL_OBJECT for CRC64NVME", async () => {
    const s3 = client();
    for (const [algorithm, type] of [
      ["SHA256", "COMPOSITE"],
      ["CRC64NVME", "FULL_OBJECT"],
    ] as const) {
      const key = `algorithms/multipart-${algorithm}.bin`;
      const created = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: algorithm }),
      );
      const parts = [bytes(5 * MiB, 7), bytes(1000, 8)];
      const uploaded = [];
      for (const [index, part] of parts.entries()) {
        const answer = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: created.UploadId,
            PartNumber: index + 1,
            Body: part,
            ChecksumAlgorithm: algorithm,
          }),
        );
        uploaded.push({
          PartNumber: index + 1,
          ETag: answer.ETag,
          [`Checksum${algorithm}`]: answer[`Checksum${algorithm}`],
        });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: created.UploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      );
      expect(done[`Checksum${algorithm}`]).toBeDefined();
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }),
      );
      expect(head.ChecksumType).toBe(type);
      expect(head[`Checksum${algorithm}`]).toBe(done[`Checksum${algorithm}`]);
    }
  });
});

describe("presigned GET with response overrides", () => {
  it("replaces the stored Content-Type and Content-Disposition instead of sending two of each", async () => {
    const s3 = client();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "presigned/talk.mp4",
        Body: "not really a video",
        ContentType: "video/mp4",
        ContentDisposition: "inline",
      }),
    );
    const url = await getSignedUrl(
      s3,
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: "presigned/talk.mp4",
        ResponseContentType: "application/octet-stream",
        ResponseContentDisposition: 'attachment; filename="talk.mp4"',
      }),
      { expiresIn: 300 },
    );
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="talk.mp4"');
    expect(await response.text()).toBe("not really a video");
  });
});

describe("server-side copies", () => {
  it("copies an object, keeping or replacing its metadata, and refuses a copy onto itself", async () => {
    const s3 = client();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "copy/source.txt",
        Body: "copied bytes",
        ContentType: "text/plain",
        Metadata: { room: "a" },
      }),
    );
    const kept = await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/kept.txt",
        CopySource: `${BUCKET}/copy/source.txt`,
      }),
    );
    expect(kept.CopyObjectResult?.ETag).toBeDefined();
    const keptHead = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copy/kept.txt" }));
    expect(keptHead).toMatchObject({ ContentType: "text/plain", Metadata: { room: "a" } });
    await s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: "copy/replaced.txt",
        CopySource: `${BUCKET}/copy/source.txt`,
        MetadataDirective: "REPLACE",
        ContentType: "text/markdown",
        Metadata: { room: "b" },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copy/replaced.txt" }));
    expect(replaced).toMatchObject({ ContentType: "text/markdown", Metadata: { room: "b" } });
    expect((await read("copy/replaced.txt")).toString()).toBe("copied bytes");
    const itself = await failure(
      s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "copy/source.txt",
          CopySource: `${BUCKET}/copy/source.txt`,
        }),
      ),
    );
    expect(itself.name).toBe("InvalidRequest");
    const missing = await failure(
      s3.send(
        new CopyObjectCommand({ Bucket: BUCKET, Key: "copy/x.txt", CopySource: `${BUCKET}/copy/none.txt` }),
      ),
    );
    expect(missing.name).toBe("NoSuchKey");
  });

  it("builds a multipart object from ranges of another (UploadPartCopy)", async () => {
    const s3 = client();
    const source = bytes(6 * MiB, 9);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "copy/big.bin", Body: source }));
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "copy/assembled.bin" }),
    );
    const first = await s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: "copy/assembled.bin",
        UploadId: created.UploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/copy/big.bin`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const second = await s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: "copy/assembled.bin",
        UploadId: created.UploadId,
        PartNumber: 2,
        CopySource: `${BUCKET}/copy/big.bin`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: "copy/assembled.bin",
        UploadId: created.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
          ],
        },
      }),
    );
    expect(await read("copy/assembled.bin")).toEqual(source);
  });
});
