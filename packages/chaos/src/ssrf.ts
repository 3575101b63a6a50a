import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A tenant whose callback URL aims at what the fleet must never reach. */
export interface SsrfTenant {
  name: string;
  key: string;
  url: string;
}

/**
 * Hostile callback targets for the chaos fleet: tenants whose callback URL points at the fleet's
 * own machine in every spelling an attacker would try, or at cloud metadata and private ranges.
 * A canary (a TCP server standing for an internal service on loopback) counts every connection
 * made to it: the mailer must refuse them all without connecting.
 */
export interface SsrfTargets {
  tenants: SsrfTenant[];
  /** An admin key of the same file: the chaos checks read every tenant's recordings with it. */
  observerKey: string;
  /** The TENANTS_FILE that defines them, for the fleet's API and mailer. */
  tenantsFile: string;
  /** Connections the canary received. */
  connections(): number;
  close(): Promise<void>;
}

export async function startSsrfTargets(): Promise<SsrfTargets> {
  let connections = 0;
  const canary: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
  const port = (canary.address() as { port: number }).port;
  const urls = [
    `http://127.0.0.1:${port}/hook`,
    `http://localhost:${port}/hook`,
    `http://0x7f.1:${port}/hook`,
    `http://2130706433:${port}/hook`,
    `http://[::ffff:127.0.0.1]:${port}/hook`,
    `http://[::1]:${port}/hook`,
    `http://0.0.0.0:${port}/hook`,
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.1/internal",
    "https://192.168.1.1/",
  ];
  const tenants = urls.map((url, i) => ({ name: `ssrf-${i}`, key: `chaos-ssrf-${i}-key-0123456789ab`, url }));
  const secret = `whsec_${Buffer.alloc(32, 42).toString("base64")}`;
  const observerKey = "chaos-observer-admin-key-0123456789";
  const file = join(mkdtempSync(join(tmpdir(), "recfleet-chaos-tenants-")), "tenants.json");
  writeFileSync(
    file,
    JSON.stringify({
      tenants: {
        ...Object.fromEntries(
          tenants.map((tenant) => [
            tenant.name,
            { keys: [tenant.key], callback: { url: tenant.url, secret } },
          ]),
        ),
        "chaos-observer": { keys: [observerKey], scopes: ["admin"] },
      },
    }),
  );
  return {
    tenants,
    observerKey,
    tenantsFile: file,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => canary.close(() => resolve())),
  };
}
