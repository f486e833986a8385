import type { MailQueue } from '@mailbus/queue';

/** Failed AUTH attempts per client IP, counted across every ingress node, before 454 4.7.0. */
export const AUTH_FAILURE_LIMIT = 5;
/** How long failures count (the counter's TTL from the first failure). */
export const AUTH_FAILURE_WINDOW_MS = 15 * 60_000;

export interface AuthThrottleLimits {
  limit: number;
  windowMs: number;
}

/**
 * Throttles AUTH per client IP through Redis (`Keys.authFailures(ip)`), so
 * every ingress node sees the failures of the others.
 */
export class AuthThrottle {
  readonly limits: AuthThrottleLimits;

  constructor(
    private readonly queue: MailQueue,
    limits: Partial<AuthThrottleLimits> = {},
  ) {
    this.limits = { limit: AUTH_FAILURE_LIMIT, windowMs: AUTH_FAILURE_WINDOW_MS, ...limits };
  }

  /** True when the IP has used up its failures in the current window. */
  async blocked(ip: string): Promise<boolean> {
    const n = Number((await this.queue.redis.get(this.queue.keys.authFailures(ip))) ?? '0');
    return n >= this.limits.limit;
  }

  /** Counts one failure; the window starts at the first one. */
  async failed(ip: string): Promise<void> {
    const key = this.queue.keys.authFailures(ip);
    await this.queue.redis.multi().incr(key).pexpire(key, this.limits.windowMs, 'NX').exec();
  }
}
