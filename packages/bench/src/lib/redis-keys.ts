import type { Redis } from "ioredis";

export interface KeyGroup {
  /** The key with its ids replaced: bench:rec:id:<uuid>, bench:control:<job>… */
  pattern: string;
  keys: number;
  /** Sum of MEMORY USAGE of the group's keys, in bytes. */
  bytes: number;
}

function patternOf(key: string): string {
  return key
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/EG_[A-Za-z0-9]+/g, "<egress-id>")
    .replace(/:\d+$/, ":<n>")
    .replace(/footprint-[0-9a-f]+-\d+/g, "<room>");
}

/** Every key of the database grouped by shape, biggest first: where the memory goes. */
export async function keyGroups(redis: Redis): Promise<KeyGroup[]> {
  const groups = new Map<string, KeyGroup>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.call("MEMORY", "USAGE", key, "SAMPLES", "0");
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const pattern = patternOf(key);
      const group = groups.get(pattern) ?? { pattern, keys: 0, bytes: 0 };
      group.keys += 1;
      group.bytes += Number(sizes[i]?.[1] ?? 0);
      groups.set(pattern, group);
    });
  } while (cursor !== "0");
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes);
}
