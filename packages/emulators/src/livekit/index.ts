export { ADMIN_PREFIX, type EgressAdminApi } from "./admin.ts";
export type { EgressSnapshot, FailOptions, UploadOutcome, UploadRecord } from "./egress-fleet.ts";
export {
  DEFAULT_PAYLOAD_CAP_BYTES,
  DEV_API_KEY,
  DEV_API_SECRET,
  type LiveKitEmulator,
  type LiveKitEmulatorOptions,
  startLiveKitEmulator,
} from "./emulator.ts";
export { DEFAULT_FAULTS, type EgressFaults, type FaultPatch, InvalidFaultsError } from "./faults.ts";
export type { RecordedRequest } from "./request-log.ts";
export type { DefaultStorage } from "./storage.ts";
export type { DeliveryOutcome, EgressEventName, WebhookDelivery } from "./webhooks.ts";
