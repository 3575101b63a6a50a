export { isJobName, JOBS, type JobData, type JobName, type JobNameOf, type Jobs } from "./catalog.ts";
export {
  type ConnectionRole,
  checkEvictionPolicy,
  createRedisConnection,
  redisOptionsFor,
  waitUntilReady,
} from "./connection.ts";
export { type ConsumerOptions, createConsumer, type JobHandler, type JobHandlers } from "./consumer.ts";
export { defineJob, type JobDefinition } from "./define.ts";
export { describeIssues, InvalidJobPayloadError } from "./errors.ts";
export {
  PARTICIPANT_KINDS,
  type ParticipantKind,
  participantKindName,
  ROOM_EVENTS,
  type RoomEventName,
  trackTypeName,
} from "./jobs/room-event.ts";
export { QUEUE, QUEUE_NAMES, type QueueName } from "./names.ts";
export { type EnqueueOptions, JobProducer } from "./producer.ts";
export { KEEP_COMPLETED, KEEP_FAILED } from "./retention.ts";
