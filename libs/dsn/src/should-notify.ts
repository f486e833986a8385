/** RFC 3461 NOTIFY keywords of RCPT TO. */
export type NotifyKeyword = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

/**
 * Whether a DSN for `event` may be sent for a recipient whose RCPT carried `notify`.
 * Without NOTIFY, RFC 3461 section 4.1 lets the MTA choose: failures and delays are reported.
 */
export function shouldNotify(
  notify: readonly NotifyKeyword[] | undefined,
  event: 'failure' | 'delay' | 'success',
): boolean {
  const given =
    notify === undefined || notify.length === 0 ? (['FAILURE', 'DELAY'] as const) : notify;
  if (given.includes('NEVER')) return false;
  switch (event) {
    case 'failure':
      return given.includes('FAILURE');
    case 'delay':
      return given.includes('DELAY');
    case 'success':
      return given.includes('SUCCESS');
  }
}
