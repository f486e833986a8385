import type { QueueOperationErrorCode } from '@mailbus/queue';
import type { AdminErrorCode } from './admin-error.js';

const STATUS: Record<QueueOperationErrorCode | AdminErrorCode, number> = {
  MAILBUS_ERR_UNKNOWN_CONNECTOR: 404,
  MAILBUS_ERR_UNKNOWN_JOB: 404,
  MAILBUS_ERR_UNKNOWN_MESSAGE: 404,
  MAILBUS_ERR_BAD_ARGUMENT: 400,
  MAILBUS_ERR_BAD_MOVE: 400,
  // A bridgehead holds the job right now: the same request may succeed in a moment.
  MAILBUS_ERR_JOB_ACTIVE: 409,
  MAILBUS_ERR_DSN_NOT_WIRED: 501,
  MAILBUS_ERR_DSN_FAILED: 502,
  MAILBUS_ERR_ADMIN_NO_AUTH: 500,
  MAILBUS_ERR_ADMIN_UNAUTHORIZED: 401,
  MAILBUS_ERR_ADMIN_BAD_REQUEST: 400,
  MAILBUS_ERR_ADMIN_NOT_FOUND: 404,
  MAILBUS_ERR_ADMIN_INTERNAL: 500,
};

/** The HTTP status the REST API answers an error code with. */
export function httpStatusOf(code: QueueOperationErrorCode | AdminErrorCode): number {
  return STATUS[code];
}
