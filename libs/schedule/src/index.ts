export type { Schedule, ScheduleParse } from './schedule.js';
export { parseSchedule } from './parse-schedule.js';
export { retryDelay } from './retry-delay.js';
export { DeliveryPolicy } from './delivery-policy.js';
export type {
  ConnectorRules,
  DeliveryEvent,
  DeliveryStep,
  ExpiryReason,
  MessageFacts,
  OnwardStep,
  PolicyInput,
  RetryRules,
  WaitReason,
} from './delivery-policy.js';
export { nextConnectionTime } from './connection-time.js';
export type { ConnectionTime } from './connection-time.js';
