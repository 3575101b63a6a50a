import { withTimeout } from "@recfleet/runtime";
import type { ObjectInfo, StorageReader } from "./artifacts.ts";

/** The calls of the minio client the artifact check makes (structural: no minio dependency). */
export interface S3ObjectClient {
  statObject(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag: string; metaData: Record<string, unknown> }>;
  getObject(bucket: string, key: string): Promise<AsyncIterable<unknown> & { destroy(): void }>;
  listObjectsV2(
    bucket: string,
    prefix: string,
    recursive: boolean,
  ): AsyncIterable<{ name?: string; size?: number; etag?: string }>;
}

function isAbsent(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "NotFound" || code === "NoSuchKey";
}

/** A StorageReader over an S3 client: every call bounded by `timeoutMs`, absence answered null. */
export function s3StorageReader(client: S3ObjectClient, timeoutMs: number): StorageReader {
  return {
    async stat(bucket, key): Promise<ObjectInfo | null> {
      try {
        const stat = await withTimeout(
          client.statObject(bucket, key),
          timeoutMs,
          `statObject ${bucket}/${key}`,
        );
        const contentType = stat.metaData["content-type"];
        return {
          size: stat.size,
          etag: stat.etag,
          contentType: typeof contentType === "string" ? contentType : null,
        };
      } catch (error) {
        if (isAbsent(error)) return null;
        throw error;
      }
    },
    async readText(bucket, key, maxBytes): Promise<string | null> {
      const read = async () => {
        let stream: Awaited<ReturnType<S3ObjectClient["getObject"]>>;
        try {
          stream = await client.getObject(bucket, key);
        } catch (error) {
          if (isAbsent(error)) return null;
          throw error;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        try {
          for await (const chunk of stream) {
            const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
            total += bytes.length;
            if (total > maxBytes) throw new Error(`${bucket}/${key} is larger than ${maxBytes} bytes`);
            chunks.push(bytes);
          }
        } finally {
          stream.destroy();
        }
        return Buffer.concat(chunks).toString("utf8");
      };
      return withTimeout(read(), timeoutMs, `getObject ${bucket}/${key}`);
    },
    async list(bucket, prefix) {
      const listing = async () => {
        const found = new Map<string, { size: number | null; etag: string | null }>();
        for await (const item of client.listObjectsV2(bucket, prefix, true)) {
          if (item.name !== undefined)
            found.set(item.name, { size: item.size ?? null, etag: item.etag ?? null });
        }
        return found;
      };
      return withTimeout(listing(), timeoutMs, `listing ${bucket}/${prefix}`);
    },
  };
}
