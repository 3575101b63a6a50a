export {
  ARTIFACT_CONTENT_TYPES,
  type ArtifactCheck,
  checkArtifacts,
  dirOf,
  finalObjectContentType,
  MAX_INDEX_BYTES,
  manifestKeyIn,
  type ObjectInfo,
  type Playlist,
  parsePlaylist,
  type SeenObject,
  type StorageReader,
} from "./artifacts.ts";
export {
  ATTEMPT_OUTCOMES,
  type CallbackPayload,
  callbackPayloadSchema,
  DELIVERY_STATES,
  type Delivery,
  type DeliveryAttempt,
  DeliveryLog,
  deliverySchema,
  MAX_KEPT_ATTEMPTS,
} from "./deliveries.ts";
export { renderStatesDoc, stateDiagram } from "./docs.ts";
export {
  applyEgressReport,
  contentTypeOf,
  EGRESS_STATUS_NAMES,
  type EgressInfoLike,
  type EgressReport,
  type EgressStatusName,
  egressReportOf,
  type ReportOutcome,
} from "./egress-report.ts";
export { EventStreamReader, eventsOf, type RecordingEvent, webhookIdOf } from "./events.ts";
export { newRecordingId, recordingIdFloor, recordingIdSchema } from "./id.ts";
export { type RecordingKeys, recordingKeys } from "./keys.ts";
export {
  type Artifact,
  activeSlotOf,
  artifactSchema,
  defaultOutputs,
  FAILURE_CODES,
  type FailureCode,
  type FilePlan,
  type HlsPlan,
  type ImagesPlan,
  type NewRecording,
  type OutputSpec,
  type OutputType,
  outputOfType,
  outputSpecSchema,
  outputsOf,
  RECORDING_KINDS,
  type Recording,
  type RecordingKind,
  type RecordingOutput,
  type RecordingSource,
  ROOM_SOURCE,
  recordingOutputSchema,
  recordingSchema,
  recordingSourceSchema,
  type StoredFile,
  storedFileSchema,
  type TimelineEntry,
} from "./model.ts";
export { hasWaitNote, WAIT_NOTES, type WaitNote } from "./notes.ts";
export {
  canTransition,
  DELETABLE,
  FINAL,
  IN_PROGRESS,
  isFinal,
  isInProgress,
  type RecordingStatus,
  STATUS_MEANING,
  STATUSES,
  TRANSITIONS,
} from "./states.ts";
export { type S3ObjectClient, s3StorageReader } from "./storage-reader.ts";
export {
  type CreateOptions,
  type CreateResult,
  type IdempotencyClaim,
  type ListQuery,
  type Page,
  RecordingStore,
  type RecordingStoreOptions,
  type TransitionChanges,
  type TransitionResult,
} from "./store.ts";
