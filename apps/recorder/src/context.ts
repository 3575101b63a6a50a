import type { AutoRecordRules, ProfileCatalog, RecorderConfig, StorageConfig } from "@recfleet/config";
import type { JobProducer } from "@recfleet/queues";
import type { RecordingStore, StorageReader } from "@recfleet/recordings";
import type { Logger } from "@recfleet/runtime";
import type { EgressClient, RoomServiceClient } from "livekit-server-sdk";
import type { Client as MinioClient } from "minio";
import type { StartLeases } from "./leases.ts";
import type { RecorderMetrics } from "./metrics.ts";

/** What the auto-record rules need beyond the rest of the context. */
export interface AutoRecordContext {
  rules: AutoRecordRules;
  /** Days a tenant's saved recordings are kept (its own, else RECORDINGS_EXPIRE_DAYS); undefined: no expiry. */
  expireDaysOf(tenant: string): number | undefined;
}

/** Everything the job handlers use, built once by main.ts (or a test). */
export interface RecorderContext {
  store: RecordingStore;
  producer: JobProducer;
  egress: EgressClient;
  /** RoomService: what is published in a room (a track's codec decides its file's container). */
  rooms: RoomServiceClient;
  profiles: ProfileCatalog;
  storage: StorageConfig;
  minio: MinioClient;
  /** The artifact check's and deletion's reads of storage, over `minio` with the storage timeout. */
  reader: StorageReader;
  recorder: RecorderConfig;
  autoRecord: AutoRecordContext;
  /** LIVEKIT_REQUEST_TIMEOUT_MS: bounds a start lease. */
  egressTimeoutMs: number;
  leases: StartLeases;
  metrics: RecorderMetrics;
  logger: Logger;
  now: () => number;
}
