export { Keys } from './keys.js';
export { MailQueue } from './mail-queue.js';
export type { RecipientGroup, Submission } from './mail-queue.js';
export { MessageStore } from './message-store.js';
export { TrackingStore } from './tracking-store.js';
export type { TrackingEvent, TrackingEventType, TrackingWrite } from './tracking-store.js';
export { LinkStateStore } from './link-state-store.js';
export { SiteLinkStateStore } from './site-link-state-store.js';
export { organizationStatus, siteGroup } from './organization-status.js';
export type {
  OrganizationStatus,
  OrganizationConnector,
  RoutingGroupStatus,
  ConnectorEndStatus,
} from './organization-status.js';
export type { StoredSiteLinkReport } from './site-link-state-store.js';
export type { LinkStatus, LinkPolicy } from './link-state-store.js';
export {
  ConnectorQueues,
  DELIVERY_JOB_OPTIONS,
  POISON_ATTEMPTS,
  POISON_BACKOFF,
  poisonBackoff,
} from './connector-queues.js';
export { deliveryPolicy, ForceWindows, FORCE_WINDOW_MS } from './connector-schedules.js';
export { LOCAL_DELIVERY, messageFacts } from './delivery-job.js';
export type { DeliveryJobData, JobRecipient, AttemptRecord, ClientInfo } from './delivery-job.js';
export { jobId } from './job-id.js';
export { newQueueId, pooledRandom } from './message-id.js';
export { createProducerConnection, createWorkerConnection } from './redis-connection.js';
export type { RedisTarget } from './redis-connection.js';
export { checkRedisSettings } from './check-redis-settings.js';
export type { Durability, RedisSettingsReport } from './check-redis-settings.js';
export { QueueOperations, type QueueOperationsOptions } from './queue-operations.js';
export {
  QueueOperationError,
  QUEUE_OPERATION_ERROR_CODES,
  type QueueOperationErrorCode,
} from './queue-operation-error.js';
export { MESSAGE_STATES, type MessageState } from './message-state.js';
export type { ConnectorSummary, ConnectorDepth } from './connector-status.js';
export type { QueuedMessage, ListMessagesOptions, MessageLookup } from './queue-listing.js';
export type { DeleteOptions, MoveResult } from './message-actions.js';
export { describeRedisTarget, redisTargetOf, whenReady, isCluster } from './redis-connection.js';
export type { RedisClient } from './redis-connection.js';
export { checkClusterSettings, seedClusterStateError } from './check-cluster-settings.js';
export type { ClusterSettingsReport } from './check-cluster-settings.js';
export { settleWrites } from './settle-writes.js';
export { scanKeys } from './scan-keys.js';
export { RecipientVerificationCache } from './recipient-verification-cache.js';
export type { RecipientVerdict } from './recipient-verification-cache.js';
export { superviseConnection, reconnectDelay } from './connection-supervisor.js';
export type { ConnectionEndedHandler } from './connection-supervisor.js';
export { WorkerWatchdog, workerStopped } from './worker-watchdog.js';
export type { WorkerWatchdogOptions, WorkerObservation, TrackJob } from './worker-watchdog.js';
export { closeConnection, withDeadline } from './close-connection.js';
export { HeldMail } from './held-mail.js';
export type { HeldJob } from './held-mail.js';
