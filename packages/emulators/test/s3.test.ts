import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAll, startTestS3, type TestS3 } from "./s3-support.ts";

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3({ buckets: ["media"] });
});

afterAll(async () => {
  await s3?.close();
});

const md5 = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

async function listV2(bucket: string, prefix = "", recursive = true, startAfter = "") {
  const items: { name?: string; prefix?: string; size: number; etag?: string; lastModified?: Date }[] = [];
  for await (const item of s3.client.listObjectsV2(bucket, prefix, recursive, startAfter)) items.push(item);
  return items;
}

describe("buckets", () => {
  it("creates a bucket that then exists and is listed; a second create is BucketAlreadyOwnedByYou", async () => {
    expect(await s3.client.bucketExists("fresh-bucket")).toBe(false);
    await s3.client.makeBucket("fresh-bucket");
    expect(await s3.client.bucketExists("fresh-bucket")).toBe(true);
    const names = (await s3.client.listBuckets()).map((bucket) => bucket.name);
    expect(names).toEqual(expect.arrayContaining(["fresh-bucket", "media"]));
    await expect(s3.client.makeBucket("fresh-bucket")).rejects.toMatchObject({
      code: "BucketAlreadyOwnedByYou",
    });
  });

  it("answers GetBucketLocation for a client given no region, which then signs for us-east-1", async () => {
    const client = s3.clientWith({ region: undefined });
    const before = s3.emulator.requests().at(-1)?.seq ?? 0;
    await client.putObject("media", "located.txt", "here");
    const requests = s3.emulator.requests(before);
    expect(requests.map((request) => [request.operation, request.query, request.status])).toEqual([
      ["GetBucketLocation", "location", 200],
      ["PutObject", "", 200],
    ]);
    expect(await client.getBucketRegionAsync("media")).toBe("us-east-1");
  });

  it("refuses invalid bucket names and removes only empty buckets", async () => {
    await expect(s3.client.makeBucket("Bad_Name")).rejects.toThrow(/Invalid bucket name/);
    await s3.client.makeBucket("short-lived");
    await s3.client.putObject("short-lived", "x", "1");
    await expect(s3.client.removeBucket("short-lived")).rejects.toMatchObject({ code: "BucketNotEmpty" });
    await s3.client.removeObject("short-lived", "x");
    await s3.client.removeBucket("short-lived");
    expect(await s3.client.bucketExists("short-lived")).toBe(false);
  });

  it("answers NoSuchBucket for objects of a bucket that does not exist", async () => {
    await expect(s3.client.putObject("no-such-bucket", "a", "b")).rejects.toMatchObject({
      code: "NoSuchBucket",
    });
  });
});

describe("a site region", () => {
  it("is reported by GetBucketLocation and required in signatures, as with MINIO_SITE_REGION", async () => {
    const regional = await startTestS3({ region: "eu-west-1", buckets: ["eu-media"] });
    try {
      const discovering = regional.clientWith({ region: undefined });
      expect(await discovering.getBucketRegionAsync("eu-media")).toBe("eu-west-1");
      await discovering.putObject("eu-media", "a.txt", "x");
      const wrongRegion = regional.clientWith({ region: "us-east-1" });
      await expect(wrongRegion.getObject("eu-media", "a.txt")).rejects.toMatchObject({
        code: "AuthorizationHeaderMalformed",
        message: "The authorization header is malformed; the region is wrong; expecting 'eu-west-1'.",
        region: "eu-west-1",
      });
      // A HEAD answer has no body: the code travels in MinIO's x-minio-error-code header.
      await expect(wrongRegion.statObject("eu-media", "a.txt")).rejects.toMatchObject({
        code: "AuthorizationHeaderMalformed",
      });
      await expect(wrongRegion.makeBucket("other", "us-west-2")).rejects.toThrow(
        /Configured region us-east-1/,
      );
    } finally {
      await regional.close();
    }
  });
});

describe("objects", () => {
  it("stores an object with its content type and metadata and gives back the same bytes", async () => {
    const body = Buffer.from("hello recording");
    const put = await s3.client.putObject("media", "rec/one.mp4", body, body.length, {
      "Content-Type": "video/mp4",
      "x-amz-meta-recording-id": "0193-abc",
    });
    expect(put.etag).toBe(md5(body));
    const stat = await s3.client.statObject("media", "rec/one.mp4");
    expect(stat).toMatchObject({
      size: body.length,
      etag: md5(body),
      metaData: { "content-type": "video/mp4", "recording-id": "0193-abc" },
    });
    expect(Date.now() - stat.lastModified.getTime()).toBeLessThan(60_000);
    expect(await readAll(await s3.client.getObject("media", "rec/one.mp4"))).toEqual(body);
  });

  it("guesses the content type from the extension when none is sent, as MinIO does", async () => {
    await s3.client.putObject("media", "guess/audio.ogg", "ogg bytes");
    await s3.client.putObject("media", "guess/blob.bin", "bin bytes");
    expect((await s3.client.statObject("media", "guess/audio.ogg")).metaData["content-type"]).toBe(
      "audio/ogg",
    );
    expect((await s3.client.statObject("media", "guess/blob.bin")).metaData["content-type"]).toBe(
      "application/octet-stream",
    );
  });

  it("serves byte ranges with 206 and Content-Range, and 416 InvalidRange past the end", async () => {
    await s3.client.putObject("media", "range.txt", "0123456789");
    expect((await readAll(await s3.client.getPartialObject("media", "range.txt", 2, 3))).toString()).toBe(
      "234",
    );
    expect((await readAll(await s3.client.getPartialObject("media", "range.txt", 7))).toString()).toBe("789");
    const url = await s3.client.presignedGetObject("media", "range.txt", 60);
    const suffix = await fetch(url, { headers: { Range: "bytes=-4" } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get("content-range")).toBe("bytes 6-9/10");
    expect(await suffix.text()).toBe("6789");
    const beyond = await fetch(url, { headers: { Range: "bytes=10-" } });
    expect(beyond.status).toBe(416);
    expect(await beyond.text()).toContain("<Code>InvalidRange</Code>");
    await expect(s3.client.getPartialObject("media", "range.txt", 20, 5)).rejects.toMatchObject({
      code: "InvalidRange",
    });
  });

  it("keeps keys with slashes, spaces, plus signs and Unicode exactly", async () => {
    const keys = [
      "unicode/été à Zürich/録音 #1.mp4",
      "unicode/a+b c%20d.txt",
      "unicode/deep/ø/🎥.ogg",
      "unicode/x?y=z",
    ];
    for (const [index, key] of keys.entries()) await s3.client.putObject("media", key, `body ${index}`);
    for (const [index, key] of keys.entries()) {
      expect((await readAll(await s3.client.getObject("media", key))).toString()).toBe(`body ${index}`);
    }
    const listed = (await listV2("media", "unicode/")).map((item) => item.name);
    expect([...listed].sort()).toEqual([...keys].sort());
  });

  it("answers NoSuchKey for a missing object and deletes idempotently", async () => {
    await expect(s3.client.statObject("media", "missing.txt")).rejects.toMatchObject({ code: "NotFound" });
    await expect(s3.client.getObject("media", "missing.txt")).rejects.toMatchObject({ code: "NoSuchKey" });
    await s3.client.putObject("media", "doomed.txt", "x");
    await s3.client.removeObject("media", "doomed.txt");
    await s3.client.removeObject("media", "doomed.txt");
    await expect(s3.client.statObject("media", "doomed.txt")).rejects.toMatchObject({ code: "NotFound" });
  });

  it("removes many objects at once", async () => {
    await s3.client.putObject("media", "batch/1", "1");
    await s3.client.putObject("media", "batch/2", "2");
    await s3.client.removeObjects("media", ["batch/1", "batch/2"]);
    expect(await listV2("media", "batch/")).toEqual([]);
  });

  it("refuses a body whose signed SHA-256 does not match (XAmzContentSHA256Mismatch)", async () => {
    const wrongHash = createHash("sha256").update("something else").digest("hex");
    await expect(
      s3.client.makeRequestStreamAsync(
        { method: "PUT", bucketName: "media", objectName: "tampered.txt" },
        Buffer.from("the real body"),
        wrongHash,
        [200],
        "us-east-1",
      ),
    ).rejects.toMatchObject({ code: "XAmzContentSHA256Mismatch" });
    await expect(s3.client.statObject("media", "tampered.txt")).rejects.toMatchObject({ code: "NotFound" });
  });
});

describe("listing", () => {
  beforeAll(async () => {
    for (const key of [
      "list/a.mp4",
      "list/b.mp4",
      "list/c/1.ogg",
      "list/c/2.ogg",
      "list/d.mp4",
      "list/e.txt",
    ]) {
      await s3.client.putObject("media", key, key);
    }
  });

  it("lists with a prefix, rolling keys up to common prefixes without recursion", async () => {
    const flat = await listV2("media", "list/", false);
    expect(flat.map((item) => item.name ?? item.prefix)).toEqual([
      "list/a.mp4",
      "list/b.mp4",
      "list/d.mp4",
      "list/e.txt",
      "list/c/",
    ]);
    const first = flat[0];
    expect(first).toMatchObject({ size: "list/a.mp4".length, etag: md5("list/a.mp4") });
    expect(first?.lastModified).toBeInstanceOf(Date);
  });

  it("starts after a given key", async () => {
    const rest = await listV2("media", "list/", true, "list/c/1.ogg");
    expect(rest.map((item) => item.name)).toEqual(["list/c/2.ogg", "list/d.mp4", "list/e.txt"]);
  });

  it("pages with max-keys and continuation tokens, with KeyCount and IsTruncated", async () => {
    const pages: string[][] = [];
    let token = "";
    for (;;) {
      const page = await s3.client.listObjectsV2Query("media", "list/", token, "/", 2, "");
      // minio-js puts a page's common prefixes after its objects.
      pages.push(page.objects.map((item) => item.name ?? item.prefix ?? ""));
      if (!page.isTruncated) break;
      token = page.nextContinuationToken;
    }
    expect(pages).toEqual([["list/a.mp4", "list/b.mp4"], ["list/d.mp4", "list/c/"], ["list/e.txt"]]);
  });

  it("answers KeyCount, NextContinuationToken and url-encoded keys in the XML itself", async () => {
    const url = await s3.client.presignedUrl("GET", "media", "", 60, {
      "list-type": "2",
      prefix: "list/",
      "max-keys": "1",
      "encoding-type": "url",
    });
    const xml = await (await fetch(url)).text();
    expect(xml).toContain("<KeyCount>1</KeyCount>");
    expect(xml).toContain("<IsTruncated>true</IsTruncated>");
    expect(xml).toMatch(/<NextContinuationToken>[^<]+<\/NextContinuationToken>/);
    expect(xml).toContain("<Key>list/a.mp4</Key>");
  });

  it("lists with the V1 API too", async () => {
    const items: { name?: string }[] = [];
    for await (const item of s3.client.listObjects("media", "list/c/", true)) items.push(item);
    expect(items.map((item) => item.name)).toEqual(["list/c/1.ogg", "list/c/2.ogg"]);
  });
});

describe("multipart uploads", () => {
  it("takes a putObject larger than the client's part size as a multipart upload", async () => {
    const partSize = 5 * 1024 * 1024;
    const client = s3.clientWith({ partSize });
    const body = randomBytes(partSize + 1024 * 1024);
    const before = s3.emulator.requests().at(-1)?.seq ?? 0;
    const result = await client.putObject("media", "big/recording.mp4", body, body.length, {
      "Content-Type": "video/mp4",
    });
    // minio-js 8.0.7 reads its part splitter in whole buffers, so a Buffer goes up as one part.
    expect(result.etag).toMatch(/^[0-9a-f]{32}-[0-9]+$/);
    const stat = await client.statObject("media", "big/recording.mp4");
    expect(stat).toMatchObject({
      size: body.length,
      etag: result.etag,
      metaData: { "content-type": "video/mp4" },
    });
    const back = await readAll(await client.getObject("media", "big/recording.mp4"));
    expect(back.equals(body)).toBe(true);
    const operations = s3.emulator.requests(before).map((request) => request.operation);
    expect(operations).toEqual([
      "ListMultipartUploads",
      "NewMultipartUpload",
      ...operations.filter((operation) => operation === "PutObjectPart"),
      "CompleteMultipartUpload",
      "HeadObject",
      "GetObject",
    ]);
  });

  it("joins parts in order with the ETag md5(part md5s)-N, and checks what Complete lists", async () => {
    const uploadID = await s3.client.initiateNewMultipartUpload("media", "parts/joined.bin", {
      "Content-Type": "application/octet-stream",
    });
    const first = randomBytes(5 * 1024 * 1024);
    const second = randomBytes(1000);
    const upload = (partNumber: number, payload: Buffer) =>
      s3.client.uploadPart(
        { bucketName: "media", objectName: "parts/joined.bin", uploadID, partNumber, headers: {} },
        payload,
      );
    const one = await upload(1, first);
    const two = await upload(2, second);
    expect([one.etag, two.etag]).toEqual([md5(first), md5(second)]);
    const complete = (parts: { part: number; etag: string }[]) =>
      s3.client.completeMultipartUpload("media", "parts/joined.bin", uploadID, parts);
    await expect(
      complete([
        { part: 2, etag: two.etag },
        { part: 1, etag: one.etag },
      ]),
    ).rejects.toMatchObject({
      code: "InvalidPartOrder",
    });
    await expect(
      complete([
        { part: 1, etag: md5("other") },
        { part: 2, etag: two.etag },
      ]),
    ).rejects.toMatchObject({
      code: "InvalidPart",
    });
    const digests = Buffer.concat([first, second].map((part) => createHash("md5").update(part).digest()));
    const result = await complete([
      { part: 1, etag: one.etag },
      { part: 2, etag: two.etag },
    ]);
    expect(result.etag).toBe(`${md5(digests)}-2`);
    const back = await readAll(await s3.client.getObject("media", "parts/joined.bin"));
    expect(back.equals(Buffer.concat([first, second]))).toBe(true);
  });

  it("refuses to complete when a part other than the last is under 5 MiB (EntityTooSmall)", async () => {
    const uploadID = await s3.client.initiateNewMultipartUpload("media", "parts/small.bin", {});
    const parts = [];
    for (const partNumber of [1, 2]) {
      const { etag } = await s3.client.uploadPart(
        { bucketName: "media", objectName: "parts/small.bin", uploadID, partNumber, headers: {} },
        Buffer.from(`part ${partNumber}`),
      );
      parts.push({ part: partNumber, etag });
    }
    await expect(
      s3.client.completeMultipartUpload("media", "parts/small.bin", uploadID, parts),
    ).rejects.toMatchObject({
      code: "EntityTooSmall",
    });
  });

  it("aborts an upload, after which its id is unknown", async () => {
    const uploadId = await s3.client.initiateNewMultipartUpload("media", "aborted.bin", {});
    expect(await s3.client.findUploadId("media", "aborted.bin")).toBe(uploadId);
    await s3.client.abortMultipartUpload("media", "aborted.bin", uploadId);
    expect(await s3.client.findUploadId("media", "aborted.bin")).toBeUndefined();
    await expect(
      s3.client.completeMultipartUpload("media", "aborted.bin", uploadId, [{ part: 1, etag: "x" }]),
    ).rejects.toMatchObject({ code: "NoSuchUpload" });
  });
});

describe("presigned URLs", () => {
  it("lets a plain fetch download the object, like a link opened from an email", async () => {
    const body = Buffer.from("recording bytes for the owner");
    await s3.client.putObject("media", "mail/räum 1.mp4", body, body.length, { "Content-Type": "video/mp4" });
    const url = await s3.client.presignedGetObject("media", "mail/räum 1.mp4", 3600);
    const response = await fetch(url, { headers: { Origin: "https://meet.example" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("video/mp4");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://meet.example");
    expect(Buffer.from(await response.arrayBuffer())).toEqual(body);
  });

  it("accepts an upload to a presigned PUT URL", async () => {
    const url = await s3.client.presignedPutObject("media", "uploads/from-browser.webm", 60);
    const body = Buffer.from("webm bytes");
    const response = await fetch(url, { method: "PUT", body, headers: { "Content-Type": "video/webm" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBe(`"${md5(body)}"`);
    const stat = await s3.client.statObject("media", "uploads/from-browser.webm");
    expect(stat.metaData["content-type"]).toBe("video/webm");
  });

  it("applies response-content-disposition from the signed URL", async () => {
    await s3.client.putObject("media", "mail/attach.mp4", "x");
    const url = await s3.client.presignedGetObject("media", "mail/attach.mp4", 60, {
      "response-content-disposition": 'attachment; filename="meeting.mp4"',
    });
    const response = await fetch(url);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="meeting.mp4"');
  });

  it("refuses a tampered URL with SignatureDoesNotMatch", async () => {
    await s3.client.putObject("media", "mail/private.mp4", "secret");
    await s3.client.putObject("media", "mail/other.mp4", "other");
    const url = new URL(await s3.client.presignedGetObject("media", "mail/private.mp4", 60));
    const otherKey = new URL(url);
    otherKey.pathname = "/media/mail/other.mp4";
    const longer = new URL(url);
    longer.searchParams.set("X-Amz-Expires", "604800");
    for (const tampered of [otherKey, longer]) {
      const response = await fetch(tampered);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    }
  });

  it("refuses an expired URL with AccessDenied 'Request has expired'", async () => {
    await s3.client.putObject("media", "mail/old.mp4", "old");
    const signedAt = new Date(Date.now() - 120_000);
    const url = await s3.client.presignedGetObject("media", "mail/old.mp4", 60, {}, signedAt);
    const response = await fetch(url);
    expect(response.status).toBe(403);
    const xml = await response.text();
    expect(xml).toContain("<Code>AccessDenied</Code>");
    expect(xml).toContain("<Message>Request has expired</Message>");
  });
});

describe("authentication", () => {
  it("answers a wrong secret with SignatureDoesNotMatch", async () => {
    const client = s3.clientWith({ secretKey: "not-the-secret" });
    await expect(client.listBuckets()).rejects.toMatchObject({ code: "SignatureDoesNotMatch" });
    await expect(client.putObject("media", "intruder.txt", "x")).rejects.toMatchObject({
      code: "SignatureDoesNotMatch",
    });
  });

  it("answers an unknown access key with InvalidAccessKeyId", async () => {
    const client = s3.clientWith({ accessKey: "nobody", secretKey: "whatever-secret" });
    await expect(client.getObject("media", "rec/one.mp4")).rejects.toMatchObject({
      code: "InvalidAccessKeyId",
    });
  });

  it("answers an unsigned request with AccessDenied in S3's XML error format", async () => {
    const response = await fetch(`${s3.emulator.url}/media/rec/one.mp4`);
    expect(response.status).toBe(403);
    const xml = await response.text();
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Access Denied.<\/Message><Key>rec\/one.mp4<\/Key><BucketName>media<\/BucketName><Resource>\/media\/rec\/one.mp4<\/Resource><RequestId>[0-9A-F]+<\/RequestId><HostId>[0-9a-f]{64}<\/HostId><\/Error>$/,
    );
  });
});
