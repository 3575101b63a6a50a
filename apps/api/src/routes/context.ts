import type {
  ApiConfig,
  AutoRecordRules,
  EncodingConfig,
  ProfileCatalog,
  TenantRegistry,
} from "@recfleet/config";
import type { JobProducer } from "@recfleet/queues";
import type { DeliveryLog, RecordingStore, ShareStore } from "@recfleet/recordings";
import type { Logger } from "@recfleet/runtime";
import type { WebhookReceiver } from "livekit-server-sdk";
import type { RedisWork } from "../http/dependency.ts";
import type { ApiLimits } from "../http/limits.ts";
import type { WatchMedia } from "../watch/media.ts";
import type { StreamTargetPolicy } from "./stream-targets.ts";

/** What route modules share; built once by createApp. */
export interface RouteContext {
  api: ApiConfig;
  logger: Logger;
  store: RecordingStore;
  /** The callbacks' delivery log the mailer writes. */
  deliveries: DeliveryLog;
  tenants: TenantRegistry;
  producer: JobProducer;
  profiles: ProfileCatalog;
  /** ENCODING_*: the bounds of per-recording overrides and the template allow-list. */
  encoding: EncodingConfig;
  /** STREAMS_*: where a stream output may send to. */
  streamTargets: StreamTargetPolicy;
  webhookReceiver: WebhookReceiver;
  work: RedisWork;
  /** API_PUBLIC_URL without a trailing slash: the base of every link. */
  links: string;
  limits: ApiLimits;
  /** RECORDINGS_EXPIRE_DAYS; 0: files are kept until the bucket's own rules remove them. */
  expireDays: number;
  /** AUTO_RECORD_FILE: the room events of a room a rule matches go to the recorder. */
  autoRecord: AutoRecordRules;
  /** Share links (their tokens' hashes) and the watch page's storage side. */
  shares: ShareStore;
  media: WatchMedia;
  /** STORAGE_BUCKET: where a recording's objects are when their record names no bucket. */
  storageBucket: string;
}
