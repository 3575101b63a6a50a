export { freePort } from "@recfleet/runtime";
export { type LifecycleResult, runToExit, startAndTerminate } from "./app-lifecycle.ts";
export { appLifecycleSuite } from "./app-lifecycle-suite.ts";
export { type RunningProcess, type SpawnOptions, spawnProcess, spawnTs } from "./processes.ts";
export { type StartRedisOptions, startRedis, type TestRedis, uniquePrefix } from "./redis.ts";
export { eventually, scaled, timeScale } from "./time.ts";
export {
  type Answer,
  type ReceivedCall,
  type Receiver,
  secretOf,
  startReceiver,
} from "./webhook-receiver.ts";
