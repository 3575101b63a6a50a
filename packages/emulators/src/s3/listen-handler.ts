// ListenBucketNotification (`GET /{bucket}?events=…`) and ListenNotification (`GET /?events=…`),
// as MinIO's cmd/listen-notification-handlers.go answers them.
import { type S3Core, type S3Request, startResponse } from "./context.ts";
import { S3Error } from "./errors.ts";
import { expandEventName, filterPattern } from "./events.ts";

// setInterval cannot wait longer than this.
const MAX_PING_S = Math.floor(2 ** 31 / 1000) - 1;

function filterValue(request: S3Request, name: "prefix" | "suffix"): string {
  const values = request.query.getAll(name);
  if (values.length > 1) throw new S3Error(name === "prefix" ? "FilterNamePrefix" : "FilterNameSuffix");
  const value = values[0] ?? "";
  const invalidSegment = value.split("/").some((segment) => segment === "." || segment === "..");
  if (Buffer.byteLength(value, "utf8") > 1024 || invalidSegment) throw new S3Error("FilterValueInvalid");
  return value;
}

export async function listenNotification(core: S3Core, request: S3Request): Promise<void> {
  if (!core.config.listen) {
    throw new S3Error("NotImplemented", {
      message: "ListenBucketNotification is not supported by this store (started with --listen=false).",
    });
  }
  const prefix = filterValue(request, "prefix");
  const suffix = filterValue(request, "suffix");
  const events = request.query.getAll("events");
  const names = new Set<string>();
  for (const event of events) {
    const expanded = expandEventName(event);
    if (!expanded) throw new S3Error("EventNotification");
    for (const name of expanded) names.add(name);
  }
  if (request.bucket !== "" && !core.store.hasBucket(request.bucket)) throw new S3Error("NoSuchBucket");
  const pingText = request.query.get("ping");
  let ping: number | undefined;
  if (pingText !== undefined && pingText !== "") {
    ping = Number(pingText);
    if (!/^[+-]?\d+$/.test(pingText) || ping < 1) throw new S3Error("InvalidQueryParams");
    ping = Math.min(ping, MAX_PING_S);
  }
  const res = startResponse(core, request, 200, {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
  });
  // The head goes out with the first write — a keep-alive or an event — as MinIO's does: a client
  // must not take the stream as open before then.
  request.req.socket.setNoDelay(true);
  core.hub.attach(
    res,
    { bucket: request.bucket, events, names, prefix, suffix, pattern: filterPattern(prefix, suffix) },
    ping,
  );
}
