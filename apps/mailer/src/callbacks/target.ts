import { type LookupAddress, lookup as systemLookup } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { nonPublicKind, withArticle } from "@recfleet/runtime";

/**
 * SSRF checks for tenant callback URLs. A tenant chooses the URL, so without them it could make
 * the fleet POST to its own network: Redis, the metadata service at 169.254.169.254, an admin
 * port on loopback. The address is checked where the connection is made (the request's lookup),
 * so a name that resolves to a public address when checked and a private one when used (DNS
 * rebinding) cannot slip through.
 */

/** Why a target was not contacted; the delivery is given up (no retry can change a URL). */
export class TargetRefusedError extends Error {
  readonly code = "ERR_CALLBACK_TARGET_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "TargetRefusedError";
  }
}

/** The checks that need no DNS: scheme, credentials, and an IP literal's range. */
export function checkTargetUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError("the callback URL is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TargetRefusedError(`only http and https callbacks are sent, not ${url.protocol.slice(0, 20)}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new TargetRefusedError("callback URLs may not carry credentials");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!allowPrivate && isIP(host) !== 0) {
    const kind = nonPublicKind(host);
    if (kind) throw new TargetRefusedError(`${host} is ${withArticle(kind)} address`);
  }
  return url;
}

export type Resolver = (
  hostname: string,
  options: { all: true; family?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const system: Resolver = (hostname, options, callback) => systemLookup(hostname, options, callback);

/**
 * The lookup the callback request connects with: it resolves the name and refuses it when any of
 * its addresses is not public (a name with one private address can be steered to it).
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = system): LookupFunction {
  return (hostname, options, callback) => {
    const family = typeof options.family === "number" ? options.family : undefined;
    resolve(hostname, { all: true, ...(family ? { family } : {}) }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      if (addresses.length === 0) {
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
      }
      if (!allowPrivate) {
        for (const { address } of addresses) {
          const kind = nonPublicKind(address);
          if (kind)
            return callback(
              new TargetRefusedError(`${hostname} resolves to ${address}, ${withArticle(kind)} address`),
              "",
              0,
            );
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
