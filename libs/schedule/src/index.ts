export type { Schedule, ScheduleParse } from './schedule.js';
export { parseSchedule } from './parse-schedule.js';
