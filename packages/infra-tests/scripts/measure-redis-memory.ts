// Prints what 1,000 recordings cost in Redis (docs/operations.md, "Redis memory"). Runs on a
// private redis-server only: its numbers must not mix with other data, nor write into a real fleet.
//   node --conditions=@recfleet/source packages/infra-tests/scripts/measure-redis-memory.ts [count]
import { startRedis } from "@recfleet/testing";
import { measureRedisMemory } from "./redis-memory.ts";

const count = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: measure-redis-memory.ts [number of recordings, default 1000]\n");
  process.exit(2);
}
const redis = await startRedis();
if (!redis.owned) {
  process.stderr.write("measure-redis-memory needs redis-server on PATH: it does not write into REDIS_URL\n");
  process.exit(2);
}
try {
  const result = await measureRedisMemory({ redisUrl: redis.url, recordings: count, prefix: "recfleet" });
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  process.stdout.write(
    [
      `recordings:                         ${result.recordings} (each queued → notified, 3 completed jobs)`,
      `used_memory growth:                 ${mib(result.usedMemoryDelta)} (${kib(result.usedMemoryDeltaPerRecording)} per recording)`,
      `per 1,000 recordings:               ${mib(result.usedMemoryDeltaPerRecording * 1000)}`,
      `MEMORY USAGE recording hash:        ${result.recordingHashBytes} B (document ${result.recordingDocumentBytes} B of JSON)`,
      `MEMORY USAGE completed job hash:    ${result.completedJobHashBytes} B`,
      `keys per recording:                 ${result.keysPerRecording.toFixed(2)}`,
      "",
      "by kind of key (sum of MEMORY USAGE):",
      ...result.groups.map(
        (group) =>
          `  ${group.kind.padEnd(52)} ${String(group.keys).padStart(6)} keys  ${kib(group.bytes).padStart(11)}`,
      ),
      "",
    ].join("\n"),
  );
} finally {
  // The redis-server child is unref'd: keep the loop alive until it has really exited.
  const keepAlive = setInterval(() => {}, 1000);
  await redis.stop();
  clearInterval(keepAlive);
}
