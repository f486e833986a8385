/**
 * Stable codes of operator errors (REST API and CLI). Each is documented in
 * docs/admin.md.
 */
export const QUEUE_OPERATION_ERROR_CODES = [
  'MAILBUS_ERR_UNKNOWN_CONNECTOR',
  'MAILBUS_ERR_UNKNOWN_JOB',
  'MAILBUS_ERR_UNKNOWN_MESSAGE',
  'MAILBUS_ERR_BAD_ARGUMENT',
  'MAILBUS_ERR_BAD_MOVE',
  'MAILBUS_ERR_JOB_ACTIVE',
  'MAILBUS_ERR_DSN_NOT_WIRED',
  'MAILBUS_ERR_DSN_FAILED',
] as const;

export type QueueOperationErrorCode = (typeof QUEUE_OPERATION_ERROR_CODES)[number];

/**
 * An operator action that cannot be done as asked: unknown connector or job,
 * a bad argument, a job being delivered right now. Kept in this file with the
 * codes so the failure codes of every queue operation read together.
 */
export class QueueOperationError extends Error {
  constructor(
    readonly code: QueueOperationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueueOperationError';
  }
}
