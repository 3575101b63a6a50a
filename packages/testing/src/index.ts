export { type LifecycleResult, runToExit, startAndTerminate } from "./app-lifecycle.ts";
export { freePort } from "./ports.ts";
export { type RunningProcess, type SpawnOptions, spawnProcess, spawnTs } from "./processes.ts";
export { type StartRedisOptions, startRedis, type TestRedis, uniquePrefix } from "./redis.ts";
