import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  type Artifact,
  DIRECTORY_NAMES,
  dirOf,
  MAX_INDEX_BYTES,
  type Recording,
  type ShareLookup,
} from "@recfleet/recordings";
import { type Request, type Response, Router } from "express";
import { methodNotAllowed } from "../http/errors.ts";
import { type GoneReason, gonePage, localeOf, type WatchLocale, watchPage } from "../watch/page.ts";
import type { RouteContext } from "./context.ts";

const assetsDir = new URL("../watch/assets/", import.meta.url);
const require = createRequire(import.meta.url);
// Read once at start: the page's assets never change while the process runs.
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  "watch.css": { type: "text/css; charset=utf-8", body: readFileSync(new URL("watch.css", assetsDir)) },
  "watch.js": { type: "text/javascript; charset=utf-8", body: readFileSync(new URL("watch.js", assetsDir)) },
  "hls.min.js": {
    type: "text/javascript; charset=utf-8",
    body: readFileSync(require.resolve("hls.js/dist/hls.min.js")),
  },
};

// A segment name as egress writes it in the playlist (`seg_00000.ts`): never a path.
const SEGMENT = new RegExp(`^${DIRECTORY_NAMES.segmentPrefix}_[0-9]{1,9}\\.ts$`);

/** A shared recording that can still be watched, or why not. */
type Opened =
  | { recording: Recording; lookup: Extract<ShareLookup, { state: "open" }> }
  | { gone: GoneReason };

/**
 * The watch page of a share link and the media behind it. The page is public (the token is the
 * access), so every request checks the link (unknown 404; revoked, expired 410) and its recording
 * (deleted or expired: 410), and media is only ever a short presigned redirect: revoking the link
 * revokes the media within MEDIA_LINK_SECONDS.
 */
export function watchRoutes(ctx: RouteContext): Router {
  const { shares, store, media, work, storageBucket } = ctx;
  const router = Router();

  const open = async (token: string): Promise<Opened> => {
    const lookup = await work(shares.lookup(token), "reading the share link");
    if (lookup.state === "unknown") return { gone: "unknown" };
    if (lookup.state !== "open") return { gone: lookup.state };
    const recording = await work(store.get(lookup.share.recordingId), "reading the recording");
    const watchable =
      recording &&
      (recording.status === "saved" || recording.status === "notified") &&
      recording.deleteRequested === null;
    return watchable ? { recording, lookup } : { gone: "removed" };
  };

  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' ${media.origin}`,
    `media-src 'self' ${media.origin} blob:`,
    `connect-src 'self' ${media.origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");

  const page = (res: Response, status: number, html: string) => {
    res.status(status).set({
      "Cache-Control": "no-store",
      "Content-Security-Policy": policy,
      "Referrer-Policy": "no-referrer",
    });
    res.type("html").send(html);
  };
  const gone = (req: Request, res: Response, reason: GoneReason, locale?: WatchLocale) =>
    page(
      res,
      reason === "unknown" ? 404 : 410,
      gonePage(reason, locale ?? localeOf(undefined, req.get("accept-language"))),
    );
  const bucketOf = (artifact: Artifact | undefined) => artifact?.bucket ?? storageBucket;
  const artifactOf = (recording: Recording, type: Artifact["type"]) =>
    recording.artifacts.find((artifact) => artifact.type === type);
  /** The file it plays: its file artifact (a document from before artifacts: its `file`), if any. */
  const fileOf = (recording: Recording): { bucket: string; key: string } | undefined => {
    const artifact = artifactOf(recording, "file");
    if (artifact) return { bucket: artifact.bucket, key: artifact.key };
    if (recording.artifacts.length === 0 && recording.file) {
      return { bucket: recording.file.bucket ?? storageBucket, key: recording.file.key };
    }
    return undefined;
  };
  /** The shared recording and one of its artifacts; answers the gone page (and undefined) when either is not there. */
  const openArtifact = async (req: Request, res: Response, type: Artifact["type"]) => {
    const opened = await open(String(req.params.token));
    const artifact = "gone" in opened ? undefined : artifactOf(opened.recording, type);
    if ("gone" in opened || !artifact) {
      gone(req, res, "gone" in opened ? opened.gone : "removed");
      return undefined;
    }
    return { recording: opened.recording, artifact };
  };
  const redirect = (res: Response, url: string) => {
    res.set("Cache-Control", "no-store");
    res.redirect(302, url);
  };

  router
    .route("/watch/assets/:name")
    .get((req, res) => {
      const asset = ASSETS[req.params.name];
      if (!asset) return void res.status(404).type("text/plain").send("not found");
      res.set({ "Cache-Control": "public, max-age=86400", "Content-Type": asset.type }).send(asset.body);
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/watch/:token")
    .get(async (req, res) => {
      const opened = await open(req.params.token);
      if ("gone" in opened) return gone(req, res, opened.gone);
      const { recording, lookup } = opened;
      const locale = localeOf(recording.notify?.locale, req.get("accept-language"));
      const file = fileOf(recording) !== undefined;
      const playlist = artifactOf(recording, "playlist");
      if (!file && !playlist) return gone(req, res, "removed", locale);
      page(
        res,
        200,
        watchPage({
          recording,
          locale,
          base: `/watch/${req.params.token}`,
          shareExpiresAt: lookup.share.expiresAt,
          media: file ? "file" : "hls",
          poster: artifactOf(recording, "images") !== undefined,
        }),
      );
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/watch/:token/file")
    .get(async (req, res) => {
      const opened = await open(req.params.token);
      const file = "gone" in opened ? undefined : fileOf(opened.recording);
      if ("gone" in opened || !file) return gone(req, res, "gone" in opened ? opened.gone : "removed");
      const url = await work(
        media.link(opened.recording, file.bucket, file.key, req.query.download === "1"),
        "presigning the file",
      );
      redirect(res, url);
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/watch/:token/playlist.m3u8")
    .get(async (req, res) => {
      const found = await openArtifact(req, res, "playlist");
      if (!found) return;
      const playlist = found.artifact;
      const text = await work(
        media.reader.readText(bucketOf(playlist), playlist.key, MAX_INDEX_BYTES),
        "reading the playlist",
      );
      if (text === null) return gone(req, res, "removed");
      // Segment URIs are relative to the playlist: here, to this route, whose segments redirect.
      const rewritten = text
        .split("\n")
        .map((line) => (SEGMENT.test(line.trim()) ? `segments/${line.trim()}` : line))
        .join("\n");
      res
        .set({ "Cache-Control": "no-store", "Content-Type": "application/vnd.apple.mpegurl" })
        .send(rewritten);
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/watch/:token/segments/:name")
    .get(async (req, res) => {
      const found = await openArtifact(req, res, "playlist");
      if (!found) return;
      if (!SEGMENT.test(req.params.name)) return gone(req, res, "unknown");
      const key = `${dirOf(found.artifact.key)}${req.params.name}`;
      redirect(
        res,
        await work(media.link(found.recording, bucketOf(found.artifact), key, false), "presigning a segment"),
      );
    })
    .all(methodNotAllowed(["GET"]));

  router
    .route("/watch/:token/poster.jpeg")
    .get(async (req, res) => {
      const found = await openArtifact(req, res, "images");
      if (!found) return;
      const key = `${dirOf(found.artifact.key)}${DIRECTORY_NAMES.imagePrefix}_00000.jpeg`;
      redirect(
        res,
        await work(
          media.link(found.recording, bucketOf(found.artifact), key, false),
          "presigning the poster",
        ),
      );
    })
    .all(methodNotAllowed(["GET"]));

  return router;
}
