import { ConfigError, type StorageConfig } from "@recfleet/config";
import type { Recording } from "./model.ts";

// Presigned links to a recording's objects, for whoever hands them out (the mailer's emails, the
// API's watch page): signed for the host the recipient reaches, saved under a readable name.

/** Where links are signed for: the public URL recipients reach, else the internal endpoint. */
export function signingEndpoint(storage: StorageConfig): { endPoint: string; port: number; useSSL: boolean } {
  if (storage.publicUrl === "") {
    return { endPoint: storage.endpoint, port: storage.port, useSSL: storage.useSSL };
  }
  const url = new URL(storage.publicUrl);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    throw new ConfigError([
      {
        env: "STORAGE_PUBLIC_URL",
        key: "storage.publicUrl",
        message:
          "must be a bare origin such as https://files.example.com (links are signed from the host root)",
      },
    ]);
  }
  const useSSL = url.protocol === "https:";
  return {
    endPoint: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (useSSL ? 443 : 80) : Number(url.port),
    useSSL,
  };
}

/** "weekly-sync-2026-01-15.mp4": what the browser saves the file as, instead of a UUID. */
export function downloadFilename(recording: Recording, key: string): string {
  const slug = recording.room
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 60);
  const day = (recording.startedAt ?? recording.createdAt).slice(0, 10);
  const extension = /\.([A-Za-z0-9]+)$/.exec(key)?.[1] ?? "bin";
  return `${slug || "recording"}-${day}.${extension}`;
}
