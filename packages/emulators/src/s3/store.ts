// Buckets, objects and multipart uploads on disk, indexed in memory.
//
// Layout under the data directory (every name on disk is derived, never a raw key, so keys may
// hold `/`, `..` or any Unicode and be up to 1024 bytes long):
//   buckets/<bucket>/bucket.json                       name and creation date
//   buckets/<bucket>/objects/<sha256(key)>.json        the object's metadata, with its key
//   buckets/<bucket>/objects/<sha256(key)>.<id>.data   its bytes
//   .s3-emulator/deployment.json                       deployment id (kept across restarts)
//   .s3-emulator/uploads/<uploadId>/upload.json        a multipart upload in progress
//   .s3-emulator/uploads/<uploadId>/part-<n>.json|.<id>.data
//   .s3-emulator/tmp/                                  bodies being received
// A write lands in a new data file first, then the metadata file is replaced by a rename, then
// the old data file is removed: a process killed at any point leaves the old or the new object,
// never a mix. Data files no metadata points to are removed at start.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "@recfleet/runtime";
import { BodyTooLargeError } from "../common/http.ts";
import { type ChecksumAlgorithm, compositeChecksum, createChecksummer } from "./checksums.ts";
import { compareKeys } from "./encoding.ts";
import { S3Error } from "./errors.ts";
import { nowNs } from "./events.ts";
import { KeyedLock } from "./keyed-lock.ts";
import type { CompletedPart } from "./xml.ts";

export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface ObjectMeta {
  key: string;
  size: number;
  /** Hex MD5 of the bytes, or `<md5 of part md5s>-<parts>` for a multipart upload; no quotes. */
  etag: string;
  /** ISO 8601 with milliseconds. */
  lastModified: string;
  /** MinIO's "UserDefined": content-type and other standard headers, and X-Amz-Meta-* headers. */
  userDefined: Record<string, string>;
  dataFile: string;
  checksum?: StoredChecksum;
  /** The modification time in Unix nanoseconds (decimal), for event sequencers. */
  modTimeNs?: string;
}

export interface BucketInfo {
  name: string;
  creationDate: string;
}

interface BucketState extends BucketInfo {
  objects: Map<string, ObjectMeta>;
  sortedKeys: string[] | undefined;
}

export interface PartMeta {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
  dataFile: string;
  checksum?: PartChecksum;
}

export interface UploadMeta {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  userDefined: Record<string, string>;
  /** The algorithm CreateMultipartUpload named (x-amz-checksum-algorithm), and how it combines. */
  checksum?: { algorithm: ChecksumAlgorithm; type: StoredChecksum["type"] };
}

interface UploadState extends UploadMeta {
  parts: Map<number, PartMeta>;
}

/** A request body saved to a temporary file, with the digests S3 checks. */
export interface ReceivedBody {
  tempPath: string;
  size: number;
  md5: Buffer;
  sha256Hex: string;
  /** The flexible checksum computed while it arrived, when one was asked for. */
  checksum?: PartChecksum;
}

/** A flexible checksum of one body (an object sent whole, or a part). */
export interface PartChecksum {
  algorithm: ChecksumAlgorithm;
  value: string;
}

/** An object's flexible checksum, as GET/HEAD report it with x-amz-checksum-mode: ENABLED. */
export interface StoredChecksum extends PartChecksum {
  /** FULL_OBJECT: of the bytes; COMPOSITE: of the parts' checksums (`<value>-<parts>`). */
  type: "FULL_OBJECT" | "COMPOSITE";
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const hashKey = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");
const uniqueSuffix = () => randomBytes(6).toString("hex");

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((item) => typeof item === "string");
}

function isObjectMeta(value: unknown): value is ObjectMeta {
  return (
    isRecord(value) &&
    typeof value.key === "string" &&
    typeof value.size === "number" &&
    typeof value.etag === "string" &&
    typeof value.lastModified === "string" &&
    typeof value.dataFile === "string" &&
    isStringMap(value.userDefined)
  );
}

function isPartMeta(value: unknown): value is PartMeta {
  return (
    isRecord(value) &&
    typeof value.partNumber === "number" &&
    typeof value.etag === "string" &&
    typeof value.size === "number" &&
    typeof value.lastModified === "string" &&
    typeof value.dataFile === "string"
  );
}

function isUploadMeta(value: unknown): value is UploadMeta {
  return (
    isRecord(value) &&
    typeof value.uploadId === "string" &&
    typeof value.bucket === "string" &&
    typeof value.key === "string" &&
    typeof value.initiated === "string" &&
    isStringMap(value.userDefined)
  );
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8")) as unknown;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export class ObjectStore {
  readonly dataDir: string;
  readonly deploymentId: string;
  private readonly buckets = new Map<string, BucketState>();
  private readonly uploads = new Map<string, UploadState>();
  private readonly locks = new KeyedLock();
  private readonly logger: Logger;

  private constructor(dataDir: string, deploymentId: string, logger: Logger) {
    this.dataDir = dataDir;
    this.deploymentId = deploymentId;
    this.logger = logger;
  }

  private get tmpDir() {
    return join(this.dataDir, ".s3-emulator", "tmp");
  }

  private get uploadsDir() {
    return join(this.dataDir, ".s3-emulator", "uploads");
  }

  private bucketDir(bucket: string) {
    return join(this.dataDir, "buckets", bucket);
  }

  private objectsDir(bucket: string) {
    return join(this.bucketDir(bucket), "objects");
  }

  /** Opens (or creates) a data directory and loads its index. */
  static async open(dataDir: string, logger: Logger): Promise<ObjectStore> {
    const internal = join(dataDir, ".s3-emulator");
    await mkdir(join(internal, "uploads"), { recursive: true });
    await mkdir(join(dataDir, "buckets"), { recursive: true });
    // Bodies still being received when the process died are of no use.
    await rm(join(internal, "tmp"), { recursive: true, force: true });
    await mkdir(join(internal, "tmp"), { recursive: true });
    const deploymentFile = join(internal, "deployment.json");
    let deploymentId: string;
    try {
      const saved = await readJson(deploymentFile);
      if (!isRecord(saved) || typeof saved.deploymentId !== "string")
        throw new Error("invalid deployment file");
      deploymentId = saved.deploymentId;
    } catch {
      deploymentId = randomUUID();
      await writeJsonAtomic(deploymentFile, { deploymentId });
    }
    const store = new ObjectStore(dataDir, deploymentId, logger);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    for (const name of await listDir(join(this.dataDir, "buckets"))) {
      let info: unknown;
      try {
        info = await readJson(join(this.bucketDir(name), "bucket.json"));
      } catch (error) {
        this.logger.warn(
          { bucket: name, err: error },
          "skipping a bucket directory without a readable bucket.json",
        );
        continue;
      }
      if (!isRecord(info) || info.name !== name || typeof info.creationDate !== "string") {
        this.logger.warn({ bucket: name }, "skipping a bucket directory with an invalid bucket.json");
        continue;
      }
      const bucket: BucketState = {
        name,
        creationDate: info.creationDate,
        objects: new Map(),
        sortedKeys: undefined,
      };
      await this.loadObjects(bucket);
      this.buckets.set(name, bucket);
    }
    for (const uploadId of await listDir(this.uploadsDir)) await this.loadUpload(uploadId);
    this.logger.debug({ buckets: this.buckets.size, uploads: this.uploads.size }, "data directory loaded");
  }

  private async loadObjects(bucket: BucketState): Promise<void> {
    const dir = this.objectsDir(bucket.name);
    const files = await listDir(dir);
    const referenced = new Set<string>();
    for (const file of files.filter((name) => name.endsWith(".json"))) {
      let meta: unknown;
      try {
        meta = await readJson(join(dir, file));
      } catch (error) {
        this.logger.warn({ bucket: bucket.name, file, err: error }, "skipping unreadable object metadata");
        continue;
      }
      if (!isObjectMeta(meta) || `${hashKey(meta.key)}.json` !== file || !files.includes(meta.dataFile)) {
        this.logger.warn({ bucket: bucket.name, file }, "skipping invalid object metadata");
        continue;
      }
      bucket.objects.set(meta.key, meta);
      referenced.add(meta.dataFile);
    }
    for (const file of files) {
      if (!file.endsWith(".json") && !referenced.has(file)) await removeFile(join(dir, file));
    }
  }

  private async loadUpload(uploadId: string): Promise<void> {
    const dir = join(this.uploadsDir, uploadId);
    try {
      const meta = await readJson(join(dir, "upload.json"));
      if (!isUploadMeta(meta) || meta.uploadId !== uploadId || !this.buckets.has(meta.bucket)) {
        throw new Error("invalid upload.json");
      }
      const files = await listDir(dir);
      const upload: UploadState = { ...meta, parts: new Map() };
      for (const file of files.filter((name) => /^part-\d+\.json$/.test(name))) {
        const part = await readJson(join(dir, file));
        if (isPartMeta(part) && files.includes(part.dataFile)) upload.parts.set(part.partNumber, part);
      }
      const referenced = new Set([...upload.parts.values()].map((part) => part.dataFile));
      for (const file of files) {
        const stale = (file.endsWith(".data") && !referenced.has(file)) || file.endsWith(".tmp");
        if (stale) await removeFile(join(dir, file));
      }
      this.uploads.set(uploadId, upload);
    } catch (error) {
      this.logger.warn({ uploadId, err: error }, "removing an unreadable multipart upload");
      await rm(dir, { recursive: true, force: true });
    }
  }

  // Buckets

  listBuckets(): BucketInfo[] {
    return [...this.buckets.values()]
      .map(({ name, creationDate }) => ({ name, creationDate }))
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  private bucket(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new S3Error("NoSuchBucket");
    return bucket;
  }

  /** Creates a bucket; false when it already exists. */
  async createBucket(name: string): Promise<boolean> {
    return this.locks.run(`bucket\0${name}`, async () => {
      if (this.buckets.has(name)) return false;
      await mkdir(this.objectsDir(name), { recursive: true });
      const creationDate = new Date().toISOString();
      await writeJsonAtomic(join(this.bucketDir(name), "bucket.json"), { name, creationDate });
      this.buckets.set(name, { name, creationDate, objects: new Map(), sortedKeys: undefined });
      return true;
    });
  }

  async deleteBucket(name: string): Promise<void> {
    await this.locks.run(`bucket\0${name}`, async () => {
      const bucket = this.bucket(name);
      if (bucket.objects.size > 0) throw new S3Error("BucketNotEmpty");
      this.buckets.delete(name);
      for (const upload of [...this.uploads.values()].filter((item) => item.bucket === name)) {
        await this.abortUpload(upload.uploadId);
      }
      await rm(this.bucketDir(name), { recursive: true, force: true });
    });
  }

  // Objects

  sortedKeys(bucketName: string): readonly string[] {
    const bucket = this.bucket(bucketName);
    bucket.sortedKeys ??= [...bucket.objects.keys()].sort(compareKeys);
    return bucket.sortedKeys;
  }

  getObject(bucket: string, key: string): ObjectMeta | undefined {
    return this.bucket(bucket).objects.get(key);
  }

  /** The object's metadata, or NoSuchKey. */
  requireObject(bucket: string, key: string): ObjectMeta {
    const meta = this.getObject(bucket, key);
    if (!meta) throw new S3Error("NoSuchKey");
    return meta;
  }

  dataPath(bucket: string, meta: ObjectMeta): string {
    return join(this.objectsDir(bucket), meta.dataFile);
  }

  /**
   * Streams a body to a temporary file, hashing it (and computing `checksum`), through `decoder`
   * first when it is aws-chunked; BodyTooLargeError past `maxBytes`.
   */
  async receive(
    source: Readable,
    maxBytes: number,
    options: { decoder?: Transform; checksum?: ChecksumAlgorithm } = {},
  ): Promise<ReceivedBody> {
    const tempPath = join(this.tmpDir, `${randomUUID()}.tmp`);
    const md5 = createHash("md5");
    const sha256 = createHash("sha256");
    const checksummer = options.checksum ? createChecksummer(options.checksum) : undefined;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new BodyTooLargeError(maxBytes));
          return;
        }
        md5.update(chunk);
        sha256.update(chunk);
        checksummer?.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      if (options.decoder) await pipeline(source, options.decoder, meter, createWriteStream(tempPath));
      else await pipeline(source, meter, createWriteStream(tempPath));
    } catch (error) {
      await removeFile(tempPath);
      throw error;
    }
    const received: ReceivedBody = { tempPath, size, md5: md5.digest(), sha256Hex: sha256.digest("hex") };
    if (options.checksum && checksummer) {
      received.checksum = { algorithm: options.checksum, value: checksummer.digest() };
    }
    return received;
  }

  async discard(body: ReceivedBody): Promise<void> {
    await removeFile(body.tempPath);
  }

  async putObject(
    bucketName: string,
    key: string,
    body: ReceivedBody,
    userDefined: Record<string, string>,
    etag = body.md5.toString("hex"),
  ): Promise<ObjectMeta> {
    const checksum: StoredChecksum | undefined = body.checksum && { ...body.checksum, type: "FULL_OBJECT" };
    return this.locks.run(`object\0${bucketName}\0${key}`, () =>
      this.commitObject(bucketName, key, body, userDefined, etag, checksum),
    );
  }

  private async commitObject(
    bucketName: string,
    key: string,
    body: ReceivedBody,
    userDefined: Record<string, string>,
    etag: string,
    checksum: StoredChecksum | undefined,
  ): Promise<ObjectMeta> {
    const base = hashKey(key);
    const dataFile = `${base}.${uniqueSuffix()}.data`;
    const dir = this.objectsDir(bucketName);
    let bucket: BucketState;
    try {
      // The bucket may have been removed while the body was arriving.
      bucket = this.bucket(bucketName);
      await rename(body.tempPath, join(dir, dataFile));
    } catch (error) {
      await removeFile(body.tempPath);
      throw error;
    }
    const modified = nowNs();
    const meta: ObjectMeta = {
      key,
      size: body.size,
      etag,
      lastModified: new Date(Number(modified / 1_000_000n)).toISOString(),
      modTimeNs: modified.toString(),
      userDefined,
      dataFile,
      ...(checksum ? { checksum } : {}),
    };
    try {
      await writeJsonAtomic(join(dir, `${base}.json`), meta);
    } catch (error) {
      await removeFile(join(dir, dataFile));
      throw error;
    }
    const previous = bucket.objects.get(key);
    bucket.objects.set(key, meta);
    if (!previous) bucket.sortedKeys = undefined;
    // Readers that opened the old file keep reading it: unlinking does not cut them off.
    if (previous) await removeFile(join(dir, previous.dataFile));
    return meta;
  }

  /** Removes an object; returns what was removed, if anything. */
  async deleteObject(bucketName: string, key: string): Promise<ObjectMeta | undefined> {
    return this.locks.run(`object\0${bucketName}\0${key}`, async () => {
      const bucket = this.bucket(bucketName);
      const meta = bucket.objects.get(key);
      if (!meta) return undefined;
      const dir = this.objectsDir(bucketName);
      await removeFile(join(dir, `${hashKey(key)}.json`));
      bucket.objects.delete(key);
      bucket.sortedKeys = undefined;
      await removeFile(join(dir, meta.dataFile));
      return meta;
    });
  }

  // Multipart uploads

  async createUpload(
    bucketName: string,
    key: string,
    userDefined: Record<string, string>,
    checksum?: UploadMeta["checksum"],
  ): Promise<UploadMeta> {
    this.bucket(bucketName);
    const uploadId = randomUUID();
    const meta: UploadMeta = {
      uploadId,
      bucket: bucketName,
      key,
      initiated: new Date().toISOString(),
      userDefined,
      ...(checksum ? { checksum } : {}),
    };
    await mkdir(join(this.uploadsDir, uploadId), { recursive: true });
    await writeJsonAtomic(join(this.uploadsDir, uploadId, "upload.json"), meta);
    this.uploads.set(uploadId, { ...meta, parts: new Map() });
    return meta;
  }

  /** The upload with this id for this object, or NoSuchUpload. */
  requireUpload(
    uploadId: string,
    bucket: string,
    key: string,
  ): UploadMeta & { parts: ReadonlyMap<number, PartMeta> } {
    const upload = UPLOAD_ID.test(uploadId) ? this.uploads.get(uploadId) : undefined;
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw new S3Error("NoSuchUpload");
    return upload;
  }

  listUploads(bucket: string): UploadMeta[] {
    this.bucket(bucket);
    return [...this.uploads.values()]
      .filter((upload) => upload.bucket === bucket)
      .sort((a, b) => compareKeys(a.key, b.key) || a.initiated.localeCompare(b.initiated));
  }

  async putPart(uploadId: string, partNumber: number, body: ReceivedBody): Promise<PartMeta> {
    return this.locks.run(`part\0${uploadId}\0${partNumber}`, async () => {
      const upload = this.uploads.get(uploadId);
      if (!upload) throw new S3Error("NoSuchUpload");
      const dir = join(this.uploadsDir, uploadId);
      const dataFile = `part-${partNumber}.${uniqueSuffix()}.data`;
      await rename(body.tempPath, join(dir, dataFile));
      const part: PartMeta = {
        partNumber,
        etag: body.md5.toString("hex"),
        size: body.size,
        lastModified: new Date().toISOString(),
        dataFile,
        ...(body.checksum ? { checksum: body.checksum } : {}),
      };
      await writeJsonAtomic(join(dir, `part-${partNumber}.json`), part);
      const previous = upload.parts.get(partNumber);
      upload.parts.set(partNumber, part);
      if (previous) await removeFile(join(dir, previous.dataFile));
      return part;
    });
  }

  /**
   * Joins the listed parts into the object, as S3 does: part numbers ascending, each part's ETag
   * matching, every part but the last at least 5 MiB. The ETag is the MD5 of the parts' binary
   * MD5s followed by `-<number of parts>`.
   */
  async completeUpload(uploadId: string, listed: readonly CompletedPart[]): Promise<ObjectMeta> {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new S3Error("NoSuchUpload");
    return this.locks.run(`object\0${upload.bucket}\0${upload.key}`, async () => {
      if (!this.uploads.has(uploadId)) throw new S3Error("NoSuchUpload");
      const ascending = listed.every(
        (item, index) => index === 0 || item.partNumber > (listed[index - 1]?.partNumber ?? 0),
      );
      if (!ascending) throw new S3Error("InvalidPartOrder");
      const parts: PartMeta[] = [];
      for (const [index, item] of listed.entries()) {
        const part = upload.parts.get(item.partNumber);
        if (!part || part.etag !== item.etag.replace(/^"|"$/g, "")) throw new S3Error("InvalidPart");
        // A listed checksum must be the one the part arrived with.
        if (
          item.checksum &&
          (part.checksum?.algorithm !== item.checksum.algorithm ||
            part.checksum.value !== item.checksum.value)
        ) {
          throw new S3Error("InvalidPart");
        }
        if (index < listed.length - 1 && part.size < MIN_PART_SIZE) throw new S3Error("EntityTooSmall");
        parts.push(part);
      }
      const dir = join(this.uploadsDir, uploadId);
      const tempPath = join(this.tmpDir, `${randomUUID()}.tmp`);
      const wanted = upload.checksum;
      let composite: StoredChecksum | undefined;
      if (wanted?.type === "COMPOSITE") {
        const values = parts.map((part) =>
          part.checksum?.algorithm === wanted.algorithm ? part.checksum.value : "",
        );
        if (values.includes("")) throw new S3Error("InvalidPart");
        composite = {
          algorithm: wanted.algorithm,
          value: compositeChecksum(wanted.algorithm, values),
          type: "COMPOSITE",
        };
      }
      // FULL_OBJECT: of the joined bytes, computed as they are joined.
      const whole = wanted?.type === "FULL_OBJECT" ? createChecksummer(wanted.algorithm) : undefined;
      async function* concatenated() {
        for (const part of parts) {
          for await (const chunk of createReadStream(join(dir, part.dataFile))) {
            whole?.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        }
      }
      try {
        await pipeline(concatenated, createWriteStream(tempPath));
      } catch (error) {
        await removeFile(tempPath);
        throw error;
      }
      const digests = Buffer.concat(parts.map((part) => Buffer.from(part.etag, "hex")));
      const etag = `${createHash("md5").update(digests).digest("hex")}-${parts.length}`;
      const size = parts.reduce((total, part) => total + part.size, 0);
      let checksum: StoredChecksum | undefined;
      if (wanted && whole) {
        checksum = { algorithm: wanted.algorithm, value: whole.digest(), type: "FULL_OBJECT" };
      } else if (composite) {
        checksum = composite;
      }
      const meta = await this.commitObject(
        upload.bucket,
        upload.key,
        { tempPath, size, md5: Buffer.alloc(0), sha256Hex: "" },
        upload.userDefined,
        etag,
        checksum,
      );
      this.uploads.delete(uploadId);
      await rm(dir, { recursive: true, force: true });
      return meta;
    });
  }

  async abortUpload(uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
    await rm(join(this.uploadsDir, uploadId), { recursive: true, force: true });
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${uniqueSuffix()}.tmp`;
  await writeFile(temp, `${JSON.stringify(value)}\n`);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
