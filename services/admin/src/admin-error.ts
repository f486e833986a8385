/** Stable codes of the admin service's own errors (the queue operations have theirs). */
export const ADMIN_ERROR_CODES = [
  'MAILBUS_ERR_ADMIN_NO_AUTH',
  'MAILBUS_ERR_ADMIN_UNAUTHORIZED',
  'MAILBUS_ERR_ADMIN_BAD_REQUEST',
  'MAILBUS_ERR_ADMIN_NOT_FOUND',
  'MAILBUS_ERR_ADMIN_INTERNAL',
] as const;

export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** An admin service error: at start (no authentication configured) or as an HTTP reply. */
export class AdminError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}
