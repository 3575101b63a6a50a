// A read-only page a person can browse: buckets, then a bucket's "folders" and objects, each
// downloadable. No SigV4 (like the admin endpoint, it is a local test and sandbox tool).
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { escapeHtml } from "../common/html.ts";
import type { ObjectStore } from "./store.ts";

export const BROWSE_PREFIX = "/_browse";
const MAX_ROWS = 1000;

/** A key in a URL path: each segment encoded, the slashes kept. */
const keyPath = (key: string) => key.split("/").map(encodeURIComponent).join("/");

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} — S3 emulator</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; text-align: left; }
th { background: #f4f4f4; }
td.size { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
  });
  res.end(html);
}

function bucketsPage(store: ObjectStore): string {
  const rows = store
    .listBuckets()
    .map(
      (bucket) =>
        `<tr><td><a href="${BROWSE_PREFIX}/${encodeURIComponent(bucket.name)}/">${escapeHtml(bucket.name)}</a></td><td>${escapeHtml(bucket.creationDate)}</td></tr>`,
    )
    .join("\n");
  return page(
    "Buckets",
    `<h1>Buckets</h1>\n<table><thead><tr><th>Bucket</th><th>Created</th></tr></thead><tbody>\n${rows}\n</tbody></table>`,
  );
}

/** A bucket's entries under `prefix`, one level: "folders" (up to the next /) and objects. */
function bucketPage(store: ObjectStore, bucket: string, prefix: string): string {
  const folders = new Set<string>();
  const objects: string[] = [];
  for (const key of store.sortedKeys(bucket)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash >= 0) folders.add(prefix + rest.slice(0, slash + 1));
    else objects.push(key);
  }
  const base = `${BROWSE_PREFIX}/${encodeURIComponent(bucket)}/`;
  const up = prefix === "" ? BROWSE_PREFIX : `${base}${keyPath(prefix.replace(/[^/]*\/$/, ""))}`;
  const rows = [
    ...[...folders].map(
      (folder) =>
        `<tr><td><a href="${base}${keyPath(folder)}">${escapeHtml(folder.slice(prefix.length))}</a></td><td></td><td></td><td></td></tr>`,
    ),
    ...objects.map((key) => {
      const meta = store.getObject(bucket, key);
      return `<tr><td><a href="${base}${keyPath(key)}" download>${escapeHtml(key.slice(prefix.length))}</a></td><td class="size">${meta?.size ?? ""}</td><td>${escapeHtml(meta?.userDefined["content-type"] ?? "")}</td><td>${escapeHtml(meta?.lastModified ?? "")}</td></tr>`;
    }),
  ];
  const shown = rows.slice(0, MAX_ROWS).join("\n");
  const more = rows.length > MAX_ROWS ? `<p>${rows.length - MAX_ROWS} more not shown.</p>` : "";
  return page(
    `${bucket}/${prefix}`,
    `<p><a href="${up}">Up</a></p>
<h1>${escapeHtml(bucket)}/${escapeHtml(prefix)}</h1>
<p>${folders.size} folder(s), ${objects.length} object(s)</p>
<table><thead><tr><th>Name</th><th>Bytes</th><th>Content-Type</th><th>Last modified</th></tr></thead><tbody>
${shown}
</tbody></table>
${more}`,
  );
}

/** GET /_browse[/bucket/[prefix/ or key]]: the pages, and an object's bytes as a download. */
export async function handleBrowse(
  req: IncomingMessage,
  res: ServerResponse,
  store: ObjectStore,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-length": 0 }).end();
    return;
  }
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  let rest: string;
  try {
    rest = decodeURIComponent(path.slice(BROWSE_PREFIX.length).replace(/^\//, ""));
  } catch {
    return send(res, 400, page("Bad path", "<h1>That path is not valid percent-encoding.</h1>"));
  }
  if (rest === "") return send(res, 200, bucketsPage(store));
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1);
  if (!store.hasBucket(bucket))
    return send(res, 404, page("No such bucket", `<h1>No bucket ${escapeHtml(bucket)}</h1>`));
  if (key === "" || key.endsWith("/")) return send(res, 200, bucketPage(store, bucket, key));
  const meta = store.getObject(bucket, key);
  if (!meta) return send(res, 404, page("No such object", `<h1>No object ${escapeHtml(key)}</h1>`));
  const filename = key.split("/").at(-1) ?? "download";
  res.writeHead(200, {
    "content-type": meta.userDefined["content-type"] ?? "application/octet-stream",
    "content-length": meta.size,
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`,
    "x-content-type-options": "nosniff",
  });
  if (req.method === "HEAD" || meta.size === 0) {
    res.end();
    return;
  }
  await pipeline(createReadStream(store.dataPath(bucket, meta)), res).catch(() => undefined);
}
