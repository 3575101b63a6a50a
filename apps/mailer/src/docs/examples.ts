// Example recordings and the emails rendered from them by the real templates: the rendered
// examples in docs/notifications.md are made from these.
import type { StorageConfig } from "@recfleet/config";
import type { Recording } from "@recfleet/recordings";
import { createDownloadLinks } from "../links.ts";
import {
  type RenderedEmail,
  renderEndedEmail,
  renderFailedEmail,
  renderSavedEmail,
} from "../render/index.ts";

const ID = "019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30";

export const exampleRecording: Recording = {
  id: ID,
  tenant: "default",
  room: "Weekly sync",
  kind: "video",
  profile: "low-cpu",
  layout: "speaker",
  source: { type: "room" },
  outputs: null,
  artifacts: [],
  streams: [],
  streamsAsOf: null,
  encoding: null,
  customBaseUrl: null,
  notify: { email: "owner@example.com" },
  metadata: null,
  status: "saved",
  egressId: "EG_ab12cd34ef56",
  output: null,
  file: {
    bucket: "recordings",
    key: `recordings/${ID}.mp4`,
    size: 48_213_000,
    etag: null,
    contentType: "video/mp4",
  },
  error: null,
  stopRequested: false,
  trigger: null,
  expireDays: null,
  expiresAt: null,
  deleteRequested: null,
  createdAt: "2026-01-15T09:59:51.000Z",
  updatedAt: "2026-01-15T11:02:40.000Z",
  startedAt: "2026-01-15T10:00:02.000Z",
  endedAt: "2026-01-15T11:02:31.000Z",
  timeline: [],
};

export const exampleFailedRecording: Recording = {
  ...exampleRecording,
  status: "failed",
  file: null,
  error: { code: "lost", message: "egress EG_ab12cd34ef56 no longer exists in LiveKit" },
};

/** A stream-only recording whose egress ended: one destination finished, one failed. */
export const exampleStreamedRecording: Recording = {
  ...exampleRecording,
  status: "stopped",
  file: null,
  outputs: [
    {
      type: "stream",
      urls: ["rtmp://a.rtmp.youtube.com/live2/{abc...mnp}", "rtmps://live.example.com:443/app/{sk_...9f2}"],
    },
  ],
  streams: [
    {
      url: "rtmp://a.rtmp.youtube.com/live2/{abc...mnp}",
      status: "finished",
      startedAt: "2026-01-15T10:00:03.000Z",
      endedAt: "2026-01-15T11:02:31.000Z",
      error: null,
      retries: 0,
    },
    {
      url: "rtmps://live.example.com:443/app/{sk_...9f2}",
      status: "failed",
      startedAt: "2026-01-15T10:00:03.000Z",
      endedAt: "2026-01-15T10:41:12.000Z",
      error: "connection closed by the server",
      retries: 3,
    },
  ],
};

/** Storage settings of the examples: links signed for a public host with example credentials. */
export const exampleStorage: StorageConfig = {
  endpoint: "minio",
  port: 9000,
  useSSL: false,
  accessKey: "EXAMPLEACCESSKEY",
  secretKey: "example-secret-key",
  bucket: "recordings",
  region: "us-east-1",
  prefix: "recordings",
  requestTimeoutMs: 10_000,
  egressUpload: true,
  egressEndpoint: "",
  egressPrefix: "",
  egressBackupBucket: "",
  egressBackupPrefix: "",
  events: "listen",
  publicUrl: "https://files.example.com",
};

export const exampleSentAt = new Date("2026-01-15T11:02:45.000Z");
export const exampleTimeZone = "Europe/Paris";

export interface ExampleEmails {
  savedEn: RenderedEmail;
  savedFr: RenderedEmail;
  failedEn: RenderedEmail;
  endedEn: RenderedEmail;
}

export async function renderExampleEmails(): Promise<ExampleEmails> {
  const links = createDownloadLinks(exampleStorage, { linkExpirySeconds: 604_800, downloadUrlTemplate: "" });
  const options = { defaultLanguage: "en", timeZone: exampleTimeZone } as const;
  const french: Recording = {
    ...exampleRecording,
    room: "Point hebdo",
    notify: { email: "owner@example.com", locale: "fr" },
  };
  return {
    savedEn: renderSavedEmail(
      exampleRecording,
      await links.linkFor(exampleRecording, exampleSentAt),
      options,
    ),
    savedFr: renderSavedEmail(french, await links.linkFor(french, exampleSentAt), options),
    failedEn: renderFailedEmail(exampleFailedRecording, "lost", options),
    endedEn: renderEndedEmail(exampleStreamedRecording, options),
  };
}
