import { ConfigError, type MailerConfig, type StorageConfig } from "@recfleet/config";
import {
  type Artifact,
  downloadFilename,
  type Recording,
  type ShareStore,
  shareExpiry,
  signingEndpoint,
} from "@recfleet/recordings";
import { withTimeout } from "@recfleet/runtime";
import { Client as MinioClient } from "minio";

export interface DownloadLink {
  url: string;
  /** When a presigned link stops working; null for links the application serves itself. */
  expiresAt: Date | null;
}

/** A link to one of a recording's other final objects: its playlist, its thumbnails' index. */
export interface ArtifactLink {
  type: Artifact["type"];
  count: number | null;
  link: DownloadLink;
}

export interface DownloadLinks {
  readonly mode: "presigned" | "template" | "watch";
  /** The recording's main object: its file, else its playlist, else its thumbnails' index. */
  linkFor(recording: Recording, now: Date): Promise<DownloadLink>;
  /** Every other final object; none with a template (the application serves its own). */
  otherLinks(recording: Recording, now: Date): Promise<ArtifactLink[]>;
}

/** A saved recording without a file: there is nothing to link to, and retrying will not change that. */
export class NoFileError extends Error {
  constructor(recordingId: string) {
    super(`recording ${recordingId} is saved but has no file to link to`);
    this.name = "NoFileError";
  }
}

const PLACEHOLDERS = new Set(["id", "room"]);
const SAMPLE_ID = "0190d1f4-0000-7000-8000-000000000000";

function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? encodeURIComponent(values[name] ?? "") : whole,
  );
}

/** Checks MAILER_DOWNLOAD_URL_TEMPLATE once at start, so a typo never reaches an inbox. */
export function validateUrlTemplate(template: string): void {
  const problem = (message: string) =>
    new ConfigError([{ env: "MAILER_DOWNLOAD_URL_TEMPLATE", key: "mailer.downloadUrlTemplate", message }]);
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.has(name ?? "")) {
      throw problem(`unknown placeholder {${name}}; use {id} and optionally {room}`);
    }
  }
  if (!template.includes("{id}")) {
    throw problem("must contain {id}, or every recipient would get the same link");
  }
  let url: URL;
  try {
    url = new URL(fillTemplate(template, { id: SAMPLE_ID, room: "room" }));
  } catch {
    throw problem("must be an http(s) URL such as https://meet.example/recordings/{id}");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw problem("must be an http(s) URL such as https://meet.example/recordings/{id}");
  }
}

class PresignedLinks implements DownloadLinks {
  readonly mode = "presigned";
  private readonly client: MinioClient;
  private readonly bucket: string;
  private readonly expirySeconds: number;
  private readonly timeoutMs: number;

  constructor(storage: StorageConfig, expirySeconds: number) {
    // The region is given so minio-js signs locally instead of asking the bucket's location.
    this.client = new MinioClient({
      ...signingEndpoint(storage),
      accessKey: storage.accessKey,
      secretKey: storage.secretKey,
      region: storage.region,
    });
    this.bucket = storage.bucket;
    this.expirySeconds = expirySeconds;
    this.timeoutMs = storage.requestTimeoutMs;
  }

  async linkFor(recording: Recording, now: Date): Promise<DownloadLink> {
    const key = recording.file?.key;
    if (!key) throw new NoFileError(recording.id);
    return this.presign(recording, recording.file?.bucket ?? this.bucket, key, now);
  }

  async otherLinks(recording: Recording, now: Date): Promise<ArtifactLink[]> {
    const links: ArtifactLink[] = [];
    for (const artifact of recording.artifacts) {
      if (artifact.key === recording.file?.key && artifact.bucket === (recording.file.bucket ?? this.bucket))
        continue;
      const link = await this.presign(recording, artifact.bucket, artifact.key, now);
      links.push({ type: artifact.type, count: artifact.count, link });
    }
    return links;
  }

  private async presign(recording: Recording, bucket: string, key: string, now: Date): Promise<DownloadLink> {
    // No link outlives the file: it stops working when the recording expires, if that is sooner.
    const untilExpiry = recording.expiresAt
      ? Math.floor((Date.parse(recording.expiresAt) - now.getTime()) / 1000)
      : Number.POSITIVE_INFINITY;
    if (untilExpiry <= 0) throw new NoFileError(recording.id);
    const seconds = Math.min(this.expirySeconds, untilExpiry);
    const url = await withTimeout(
      this.client.presignedGetObject(
        bucket,
        key,
        seconds,
        { "response-content-disposition": `attachment; filename="${downloadFilename(recording, key)}"` },
        now,
      ),
      this.timeoutMs,
      "presigning the download link",
    );
    return { url, expiresAt: new Date(now.getTime() + seconds * 1000) };
  }
}

class TemplateLinks implements DownloadLinks {
  readonly mode = "template";
  private readonly template: string;
  constructor(template: string) {
    validateUrlTemplate(template);
    this.template = template;
  }
  async linkFor(recording: Recording): Promise<DownloadLink> {
    return { url: fillTemplate(this.template, { id: recording.id, room: recording.room }), expiresAt: null };
  }

  async otherLinks(): Promise<ArtifactLink[]> {
    return [];
  }
}

/** Checks MAILER_WATCH_BASE_URL once at start: an http(s) URL with no query or fragment. */
function validateWatchBaseUrl(value: string): string {
  const problem = () =>
    new ConfigError([
      {
        env: "MAILER_WATCH_BASE_URL",
        key: "mailer.watchBaseUrl",
        message:
          "must be the API's public http(s) URL, such as https://recordings.example.com (no query or fragment)",
      },
    ]);
  if (!URL.canParse(value)) throw problem();
  const url = new URL(value);
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "")
    throw problem();
  if (url.username !== "" || url.password !== "") throw problem();
  return value.replace(/\/+$/, "");
}

/**
 * Links to the recording's watch page: a share link made for the email (`by: "email"`), which
 * expires after MAILER_LINK_EXPIRY_SECONDS or with the recording, can be revoked, and dies with
 * the recording; the page shows every artifact, so the email lists no other link.
 */
class WatchLinks implements DownloadLinks {
  readonly mode = "watch";
  private readonly base: string;
  private readonly shares: () => ShareStore;
  private readonly expirySeconds: number;

  constructor(base: string, shares: () => ShareStore, expirySeconds: number) {
    this.base = validateWatchBaseUrl(base);
    this.shares = shares;
    this.expirySeconds = expirySeconds;
  }

  async linkFor(recording: Recording, now: Date): Promise<DownloadLink> {
    const expiresAt = shareExpiry(recording, this.expirySeconds * 1000, now);
    if (expiresAt <= now) throw new NoFileError(recording.id);
    const { token } = await this.shares().create({
      recording,
      expiresAt,
      note: "emailed to the recording's owner",
      by: "email",
    });
    return { url: `${this.base}/watch/${token}`, expiresAt };
  }

  async otherLinks(): Promise<ArtifactLink[]> {
    return [];
  }
}

/**
 * Download links: MAILER_DOWNLOAD_URL_TEMPLATE when set (the application serves downloads
 * itself), else a share of the watch page when MAILER_WATCH_BASE_URL is set, else a presigned S3
 * GET valid for MAILER_LINK_EXPIRY_SECONDS. Throws ConfigError for a template or URL that cannot
 * work.
 */
export function createDownloadLinks(
  storage: StorageConfig,
  mailer: Pick<MailerConfig, "linkExpirySeconds" | "downloadUrlTemplate"> & { watchBaseUrl?: string },
  /** Where watch-page links are kept, once Redis is open; needed with MAILER_WATCH_BASE_URL only. */
  shares?: () => ShareStore,
): DownloadLinks {
  if (mailer.downloadUrlTemplate !== "") return new TemplateLinks(mailer.downloadUrlTemplate);
  if (mailer.watchBaseUrl) {
    if (!shares) throw new Error("watch-page links need the share store");
    return new WatchLinks(mailer.watchBaseUrl, shares, mailer.linkExpirySeconds);
  }
  return new PresignedLinks(storage, mailer.linkExpirySeconds);
}
