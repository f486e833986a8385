export { createAdmin } from './create-admin.js';
export type { AdminOptions } from './create-admin.js';
export { AdminServer } from './admin-server.js';
export { AdminError, ADMIN_ERROR_CODES } from './admin-error.js';
export type { AdminErrorCode } from './admin-error.js';
export { httpStatusOf } from './http-status-of.js';
export { queueSamples } from './queue-samples.js';
