// Share links and the watch page over real connections: Redis, the S3 emulator (real SigV4
// presigning and Range answers), the API's public routes. The browser side (the player playing)
// is for the browser tests; here: what the page holds, where its media leads, and that a revoked,
// expired or unknown link, or a removed recording, shows nothing of it.

import { type S3Emulator, startS3Emulator } from "@recfleet/emulators/s3";
import type { Recording } from "@recfleet/recordings";
import { startRedis, type TestRedis } from "@recfleet/testing";
import { Client as MinioClient } from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, problemOf, startTestApi, type TestApi } from "./support.ts";

const ACCESS = "watch-reader";
const SECRET = "watch-reader-secret";
const BUCKET = "recordings";
/** Another tenant's key: it sees none of the default tenant's recordings, nor their links. */
const OTHER_KEY = "other-tenant-key-0123456789";
/** An operator's key (scope admin): it sees every tenant's recordings. */
const ADMIN_KEY = "ops-admin-key-0123456789ab";

let redis: TestRedis;
let s3: S3Emulator;
let api: TestApi;
let minio: MinioClient;
const FILE_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

beforeAll(async () => {
  redis = await startRedis();
  s3 = await startS3Emulator({ accessKey: ACCESS, secretKey: SECRET, buckets: [BUCKET] });
  minio = new MinioClient({
    endPoint: "127.0.0.1",
    port: s3.port,
    useSSL: false,
    accessKey: ACCESS,
    secretKey: SECRET,
    region: "us-east-1",
  });
  api = await startTestApi({
    redisUrl: redis.url,
    storage: {
      STORAGE_ENDPOINT: "127.0.0.1",
      STORAGE_PORT: String(s3.port),
      STORAGE_ACCESS_KEY: ACCESS,
      STORAGE_SECRET_KEY: SECRET,
      STORAGE_BUCKET: BUCKET,
    },
    apiKeys: [API_KEY, `other=${OTHER_KEY}`],
    tenantsFile: {
      tenants: { ops: { keys: [ADMIN_KEY], scopes: ["admin", "recordings:read", "recordings:write"] } },
    },
  });
});
afterAll(async () => {
  await api?.close();
  await s3?.close();
  await redis?.stop();
});

/** A recording moved to saved with these stored objects, as the storage listener leaves it. */
async function savedRecording(
  room: string,
  objects: { type: "file" | "playlist" | "images"; key: string; body: Buffer; contentType: string }[],
) {
  const created = await api.store.create({
    room,
    kind: "video",
    profile: "low-cpu",
    layout: "speaker",
    notify: null,
    metadata: null,
  });
  if (created.outcome !== "created") throw new Error(created.outcome);
  const { id } = created.recording;
  for (const object of objects) {
    await minio.putObject(BUCKET, object.key.replace("<id>", id), object.body, object.body.length, {
      "Content-Type": object.contentType,
    });
  }
  await api.store.transition(id, "starting", { reason: "t", egressId: `EG_${id.slice(-8)}` });
  await api.store.transition(id, "active", { reason: "t" });
  await api.store.transition(id, "stopped", { reason: "t" });
  const artifacts = objects.map((object) => ({
    type: object.type,
    bucket: BUCKET,
    key: object.key.replace("<id>", id),
    size: object.body.length,
    etag: null,
    contentType: object.contentType,
    count: object.type === "file" ? null : 2,
  }));
  const main = artifacts[0];
  const saved = await api.store.transition(id, "saved", {
    reason: "t",
    file: {
      bucket: BUCKET,
      key: main?.key ?? "",
      size: main?.size ?? 0,
      etag: null,
      contentType: main?.contentType ?? "",
    },
    artifacts,
  });
  if (!saved.ok) throw new Error("not saved");
  return saved.recording;
}

async function share(recording: Recording, body: unknown = {}, key?: string) {
  return api.call(`/v1/recordings/${recording.id}/shares`, {
    method: "POST",
    json: body,
    ...(key ? { key } : {}),
  });
}

const watch = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${api.url}${path}`, { redirect: "manual", headers });

describe("share links and the watch page", () => {
  it("makes a 256-bit link to a saved recording, whose page plays the file through short presigned redirects that seek", async () => {
    const recording = await savedRecording("board <b>meeting</b>", [
      { type: "file", key: "recordings/<id>.mp4", body: FILE_BYTES, contentType: "video/mp4" },
    ]);
    const created = await share(recording, { note: "for the board" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; url: string; note: string; expiresAt: string };
    expect(body.note).toBe("for the board");
    // A link made by an operator's key is still the recording owner's.
    const byOperator = await share(recording, {}, ADMIN_KEY);
    expect(byOperator.status).toBe(201);
    expect(((await byOperator.json()) as { tenant: string }).tenant).toBe("default");
    const token = /\/watch\/([A-Za-z0-9_-]{43})$/.exec(body.url)?.[1];
    expect(token).toBeDefined();
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const page = await watch(`/watch/${token}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`media-src 'self' http://127.0.0.1:${s3.port} blob:`);
    expect(csp).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("<h1>board &#60;b&#62;meeting&#60;/b&#62;</h1>");
    expect(html).toContain(`<video id="player" controls preload="metadata" src="/watch/${token}/file">`);
    expect(html).toContain(`href="/watch/${token}/file?download=1"`);

    const file = await watch(`/watch/${token}/file`);
    expect(file.status).toBe(302);
    const location = file.headers.get("location") ?? "";
    expect(new URL(location).host).toBe(`127.0.0.1:${s3.port}`);
    expect(new URL(location).searchParams.get("X-Amz-Expires")).toBe("300");
    const ranged = await fetch(location, { headers: { range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(FILE_BYTES.subarray(100, 200))).toBe(true);
    const download = await watch(`/watch/${token}/file?download=1`);
    expect(
      new URL(download.headers.get("location") ?? "").searchParams.get("response-content-disposition"),
    ).toMatch(/^attachment; filename="board-b-meeting-b-\d{4}-\d{2}-\d{2}\.mp4"$/);

    const french = await (await watch(`/watch/${token}`, { "accept-language": "fr-FR,fr;q=0.9" })).text();
    expect(french).toContain('<html lang="fr">');
    expect(french).toContain("Télécharger");
    // The token is the access: no log line holds it, every watch request is logged without it.
    const logs = api.logs.join("\n");
    expect(logs).not.toContain(token);
    expect(logs).toContain('"url":"/watch/{token}/file?download=[redacted]"');
  });

  it("serves an HLS-only recording's playlist with each segment behind its own presigned redirect, and the poster", async () => {
    const playlist = Buffer.from(
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:2.000,\nseg_00000.ts\n#EXTINF:2.000,\nseg_00001.ts\n#EXT-X-ENDLIST\n",
    );
    const recording = await savedRecording("hls-room", [
      {
        type: "playlist",
        key: "recordings/<id>/playlist.m3u8",
        body: playlist,
        contentType: "application/x-mpegurl",
      },
      {
        type: "images",
        key: "recordings/<id>/EG_x.json",
        body: Buffer.from("{}"),
        contentType: "application/json",
      },
    ]);
    await minio.putObject(BUCKET, `recordings/${recording.id}/seg_00001.ts`, Buffer.from("ts"), 2);
    const token = new URL(((await (await share(recording)).json()) as { url: string }).url).pathname.split(
      "/",
    )[2];
    const html = await (await watch(`/watch/${token}`)).text();
    expect(html).toContain(`data-hls="/watch/${token}/playlist.m3u8"`);
    expect(html).toContain(`poster="/watch/${token}/poster.jpeg"`);
    expect(html).toContain('<script src="/watch/assets/hls.min.js"></script>');
    const served = await watch(`/watch/${token}/playlist.m3u8`);
    expect(served.headers.get("content-type")).toMatch(/^application\/vnd\.apple\.mpegurl/);
    expect((await served.text()).split("\n").filter((line) => !line.startsWith("#") && line !== "")).toEqual([
      "segments/seg_00000.ts",
      "segments/seg_00001.ts",
    ]);
    const segment = await watch(`/watch/${token}/segments/seg_00001.ts`);
    expect(segment.status).toBe(302);
    expect(await (await fetch(segment.headers.get("location") ?? "")).text()).toBe("ts");
    expect((await watch(`/watch/${token}/segments/..%2Fother.mp4`)).status).toBe(404);
    expect(new URL((await watch(`/watch/${token}/poster.jpeg`)).headers.get("location") ?? "").pathname).toBe(
      `/${BUCKET}/recordings/${recording.id}/img_00000.jpeg`,
    );
    const asset = await watch("/watch/assets/hls.min.js");
    expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(100_000);
  });

  it("lists and revokes links; a revoked or unknown one shows its page and none of the media", async () => {
    const recording = await savedRecording("revoked-room", [
      { type: "file", key: "recordings/<id>.mp4", body: FILE_BYTES, contentType: "video/mp4" },
    ]);
    const made = (await (await share(recording)).json()) as { id: string; url: string };
    const token = new URL(made.url).pathname.split("/")[2];
    const listed = (await (await api.call(`/v1/recordings/${recording.id}/shares`)).json()) as {
      items: Record<string, unknown>[];
    };
    expect(listed.items.map((item) => item.id)).toEqual([made.id]);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(
      (await api.call(`/v1/recordings/${recording.id}/shares/${made.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    const revoked = await watch(`/watch/${token}`);
    expect(revoked.status).toBe(410);
    expect(await revoked.text()).toContain("This link was revoked");
    expect((await watch(`/watch/${token}/file`)).status).toBe(410);
    const unknown = await watch(`/watch/${"A".repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("This link does not exist");
    expect(
      (await api.call(`/v1/recordings/${recording.id}/shares/sh_nothing`, { method: "DELETE" })).status,
    ).toBe(404);
  });

  it("shows a deleted recording as removed, refuses to share one not saved, and keeps tenants apart", async () => {
    const recording = await savedRecording("deleted-room", [
      { type: "file", key: "recordings/<id>.mp4", body: FILE_BYTES, contentType: "video/mp4" },
    ]);
    const token = new URL(((await (await share(recording)).json()) as { url: string }).url).pathname.split(
      "/",
    )[2];
    expect((await share(recording, {}, OTHER_KEY)).status).toBe(404);
    expect((await api.call(`/v1/recordings/${recording.id}/shares`, { key: OTHER_KEY })).status).toBe(404);
    expect((await api.call(`/v1/recordings/${recording.id}`, { method: "DELETE" })).status).toBeLessThan(300);
    const removed = await watch(`/watch/${token}`);
    expect(removed.status).toBe(410);
    expect(await removed.text()).toContain("This recording was removed");

    const queued = await api.store.create({
      room: "queued-room",
      kind: "video",
      profile: "low-cpu",
      layout: "speaker",
      notify: null,
      metadata: null,
    });
    if (queued.outcome !== "created") throw new Error(queued.outcome);
    const refused = await share(queued.recording);
    expect(refused.status).toBe(409);
    expect((await problemOf(refused)).type).toMatch(/recording-not-saved$/);
    expect(await problemOf(await share(recording, { expiresInSeconds: 10 }))).toMatchObject({ status: 400 });
  });
});
