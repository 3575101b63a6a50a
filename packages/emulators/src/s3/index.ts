export { ADMIN_PREFIX, type S3AdminApi } from "./admin.ts";
export {
  DEFAULT_ACCESS_KEY,
  DEFAULT_GARBAGE_LINE,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_REGION,
  DEFAULT_SECRET_KEY,
  type S3Emulator,
  type S3EmulatorOptions,
  startS3Emulator,
} from "./emulator.ts";
export { S3_ERRORS } from "./errors.ts";
export { type FailCode, type FaultPatch, InvalidFaultsError, type S3Faults } from "./faults.ts";
export type { CutMode, ListenerInfo } from "./listeners.ts";
export type { RequestLogEntry } from "./request-log.ts";
