import { fileURLToPath } from "node:url";
import { spawnTs } from "@recfleet/testing";

export interface ChildServer {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one of the bench's comparison servers (src/servers/*.ts) as its own process, like the
 * API it is compared with, and reads its port from its "listening" log line.
 */
export async function startChildServer(name: string, env: Record<string, string>): Promise<ChildServer> {
  const entry = fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
  const child = spawnTs(entry, [], { env: { PORT: "0", ...env } });
  const line = await child.waitForLine(/"msg":"[^"]* listening"/, 20_000);
  const port = Number(/"port":(\d+)/.exec(line)?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${name} printed no port: ${line}`);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.child.pid,
    stop: async () => {
      await child.stop("SIGTERM", 5000);
    },
  };
}
