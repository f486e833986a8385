import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';

/** What a mailbox host said of a recipient, as remembered. */
export type RecipientVerdict = 'valid' | 'invalid';

/**
 * Results of recipient callouts (`recipientValidation: verify`) in Redis,
 * shared by every ingress node: one key per address
 * (`Keys.recipientVerification`) holding `valid` or `invalid`, expiring after
 * the policy's positive or negative TTL. Temporary failures are not cached.
 */
export class RecipientVerificationCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async get(address: string): Promise<RecipientVerdict | undefined> {
    const v = await this.redis.get(this.keys.recipientVerification(address));
    return v === 'valid' || v === 'invalid' ? v : undefined;
  }

  async set(address: string, verdict: RecipientVerdict, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.recipientVerification(address), verdict, 'PX', ttlMs);
  }
}
