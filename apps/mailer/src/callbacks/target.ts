import { type LookupAddress, lookup as systemLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

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

// Every range that is not the public internet (RFC 6890 special-purpose registries), with the
// word the refusal uses.
const RANGES: [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "unspecified"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "IETF protocol assignment"],
  ["192.0.2.0", 24, "ipv4", "documentation"],
  ["192.88.99.0", 24, "ipv4", "6to4 relay"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "benchmarking"],
  ["198.51.100.0", 24, "ipv4", "documentation"],
  ["203.0.113.0", 24, "ipv4", "documentation"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved"],
  ["::", 128, "ipv6", "unspecified"],
  ["::1", 128, "ipv6", "loopback"],
  ["100::", 64, "ipv6", "discard-only"],
  ["2001::", 23, "ipv6", "IETF protocol assignment"],
  ["2001:db8::", 32, "ipv6", "documentation"],
  ["fc00::", 7, "ipv6", "unique local (private)"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["ff00::", 8, "ipv6", "multicast"],
];

const LISTS = RANGES.map(([network, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, kind };
});

// IPv6 forms that carry an IPv4 address: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96), 6to4
// (2002::/16). The embedded address is what gets reached, so it is what is checked.
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (dotted) return dotted;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4}):/.exec(lower);
  const parts = hex ?? sixToFour;
  if (!parts) return undefined;
  const high = Number.parseInt(parts[1] ?? "0", 16);
  const low = Number.parseInt(parts[2] ?? "0", 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** The kind of non-public range an address is in ("loopback", "private", …); undefined: public. */
export function nonPublicKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return nonPublicKind(inner);
  }
  const type = family === 4 ? "ipv4" : "ipv6";
  return LISTS.find((entry) => entry.family === type && entry.list.check(address, type))?.kind;
}

const withArticle = (kind: string) => `${/^(unspecified|IETF)/.test(kind) ? "an" : "a"} ${kind}`;

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
