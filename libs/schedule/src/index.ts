export type { Schedule, ScheduleParse } from './schedule.js';
export { parseSchedule } from './parse-schedule.js';
export { closesAt } from './closes-at.js';
export { retryDelay } from './retry-delay.js';
export { expandRetrySeries } from './expand-retry-series.js';
export type { RetrySeriesInput } from './expand-retry-series.js';
export { deliveryDeadlines } from './delivery-deadlines.js';
export type { DeliveryDeadlines, DeliveryDeadlinesInput } from './delivery-deadlines.js';
