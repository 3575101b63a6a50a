import type { StorageConfig } from "@recfleet/config";
import {
  downloadFilename,
  type Recording,
  type StorageReader,
  s3StorageReader,
  signingEndpoint,
} from "@recfleet/recordings";
import { withTimeout } from "@recfleet/runtime";
import { Client as MinioClient } from "minio";

/** How long a watch page's media link lives: long enough to start playing, short enough that revoking the page revokes the media. */
export const MEDIA_LINK_SECONDS = 300;

/** The storage side of the watch page: short presigned links, and the reads it makes itself. */
export interface WatchMedia {
  /** The origin media links point at (for the page's Content-Security-Policy). */
  readonly origin: string;
  readonly reader: StorageReader;
  /** A presigned GET of one object, valid MEDIA_LINK_SECONDS; `download` makes the browser save it. */
  link(recording: Recording, bucket: string, key: string, download: boolean): Promise<string>;
}

export function createWatchMedia(storage: StorageConfig): WatchMedia {
  const signing = signingEndpoint(storage);
  // The region is given so minio-js signs locally instead of asking the bucket's location.
  const signer = new MinioClient({
    ...signing,
    accessKey: storage.accessKey,
    secretKey: storage.secretKey,
    region: storage.region,
  });
  const internal = new MinioClient({
    endPoint: storage.endpoint,
    port: storage.port,
    useSSL: storage.useSSL,
    accessKey: storage.accessKey,
    secretKey: storage.secretKey,
    region: storage.region,
  });
  const scheme = signing.useSSL ? "https" : "http";
  const defaultPort = signing.useSSL ? 443 : 80;
  const host = signing.endPoint.includes(":") ? `[${signing.endPoint}]` : signing.endPoint;
  return {
    origin: `${scheme}://${host}${signing.port === defaultPort ? "" : `:${signing.port}`}`,
    reader: s3StorageReader(internal, storage.requestTimeoutMs),
    link: (recording, bucket, key, download) =>
      withTimeout(
        signer.presignedGetObject(
          bucket,
          key,
          MEDIA_LINK_SECONDS,
          download
            ? { "response-content-disposition": `attachment; filename="${downloadFilename(recording, key)}"` }
            : {},
        ),
        storage.requestTimeoutMs,
        "presigning a media link",
      ),
  };
}
