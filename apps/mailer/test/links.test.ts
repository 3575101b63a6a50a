import { ConfigError } from "@recfleet/config";
import type { Recording } from "@recfleet/recordings";
import { downloadFilename, signingEndpoint } from "@recfleet/recordings";
import { describe, expect, it } from "vitest";
import { createDownloadLinks, NoFileError } from "../src/links.ts";
import { storageConfigFor } from "./support.ts";

const recording = {
  id: "019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30",
  room: "Design & Co/1",
  createdAt: "2026-01-15T09:59:51.000Z",
  startedAt: "2026-01-15T10:00:02.000Z",
  file: {
    bucket: "recordings",
    key: "recordings/019bc0a2-5e1f-7c3a-9d2e-4b8f1a6c7d30.mp4",
    size: 1,
    etag: null,
    contentType: null,
  },
} as Recording;
const now = new Date("2026-01-15T11:02:45.000Z");

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("download URL template", () => {
  it("fills {id} and the URL-encoded {room}, and never expires", async () => {
    const links = createDownloadLinks(storageConfigFor(), {
      linkExpirySeconds: 60,
      downloadUrlTemplate: "https://meet.example/{room}/recordings/{id}?from=mail",
    });
    expect(links.mode).toBe("template");
    expect(await links.linkFor(recording, now)).toEqual({
      url: `https://meet.example/Design%20%26%20Co%2F1/recordings/${recording.id}?from=mail`,
      expiresAt: null,
    });
  });

  it.each([
    ["https://meet.example/{id}/{user}", "unknown placeholder {user}; use {id} and optionally {room}"],
    ["https://meet.example/{room}", "must contain {id}, or every recipient would get the same link"],
    ["javascript:alert('{id}')", "must be an http(s) URL such as https://meet.example/recordings/{id}"],
    ["meet.example/{id}", "must be an http(s) URL such as https://meet.example/recordings/{id}"],
  ])("refuses %s at start", (template, message) => {
    const error = configErrorOf(() =>
      createDownloadLinks(storageConfigFor(), { linkExpirySeconds: 60, downloadUrlTemplate: template }),
    );
    expect(error.problems).toEqual([
      { env: "MAILER_DOWNLOAD_URL_TEMPLATE", key: "mailer.downloadUrlTemplate", message },
    ]);
  });
});

describe("presigned links", () => {
  it("are SigV4 query-signed GETs for the public host, valid for the configured time, without a network call", async () => {
    const links = createDownloadLinks(
      storageConfigFor({
        endpoint: "minio.internal.invalid",
        publicUrl: "https://files.example.invalid",
        accessKey: "AKEXAMPLE",
        secretKey: "secret-example-key",
        region: "eu-west-3",
      }),
      { linkExpirySeconds: 604_800, downloadUrlTemplate: "" },
    );
    expect(links.mode).toBe("presigned");
    const link = await links.linkFor(recording, now);
    const url = new URL(link.url);
    expect(url.origin).toBe("https://files.example.invalid");
    expect(url.pathname).toBe(`/recordings/${recording.file?.key}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKEXAMPLE/20260115/eu-west-3/s3/aws4_request",
      "X-Amz-Date": "20260115T110245Z",
      "X-Amz-Expires": "604800",
      "X-Amz-SignedHeaders": "host",
      "X-Amz-Signature": expect.stringMatching(/^[0-9a-f]{64}$/),
      "response-content-disposition": 'attachment; filename="Design-Co-1-2026-01-15.mp4"',
    });
    expect(link.expiresAt?.toISOString()).toBe("2026-01-22T11:02:45.000Z");
  });

  it("never outlive the recording's files: valid only until expiresAt when that comes first", async () => {
    const links = createDownloadLinks(storageConfigFor(), {
      linkExpirySeconds: 604_800,
      downloadUrlTemplate: "",
    });
    const expiresAt = "2026-01-15T12:02:45.000Z";
    const link = await links.linkFor({ ...recording, expiresAt }, now);
    expect(new URL(link.url).searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(link.expiresAt?.toISOString()).toBe(expiresAt);
    await expect(
      links.linkFor({ ...recording, expiresAt: "2026-01-15T11:00:00.000Z" }, now),
    ).rejects.toBeInstanceOf(NoFileError);
  });

  it("fail clearly for a saved recording without a file", async () => {
    const links = createDownloadLinks(storageConfigFor(), { linkExpirySeconds: 60, downloadUrlTemplate: "" });
    await expect(links.linkFor({ ...recording, file: null }, now)).rejects.toBeInstanceOf(NoFileError);
  });

  it.each([
    ["", { endPoint: "minio", port: 9000, useSSL: false }],
    ["https://files.example.com", { endPoint: "files.example.com", port: 443, useSSL: true }],
    ["http://files.example.com:8080/", { endPoint: "files.example.com", port: 8080, useSSL: false }],
    ["http://[::1]:9000", { endPoint: "::1", port: 9000, useSSL: false }],
  ])("STORAGE_PUBLIC_URL=%j signs for %j", (publicUrl, expected) => {
    expect(signingEndpoint(storageConfigFor({ endpoint: "minio", port: 9000, publicUrl }))).toEqual(expected);
  });

  it("refuse a public URL with a path", () => {
    const error = configErrorOf(() =>
      signingEndpoint(storageConfigFor({ publicUrl: "https://example.com/s3" })),
    );
    expect(error.problems[0]?.env).toBe("STORAGE_PUBLIC_URL");
  });

  it.each([
    ["Weekly sync", "Weekly-sync-2026-01-15.mp4"],
    ["<script>alert(1)</script>", "script-alert-1-script-2026-01-15.mp4"],
    ["会議", "recording-2026-01-15.mp4"],
    ["Café Zürich", "Cafe-Zurich-2026-01-15.mp4"],
  ])("save the file of room %j as %s", (room, expected) => {
    expect(downloadFilename({ ...recording, room }, "recordings/x.mp4")).toBe(expected);
  });
});
