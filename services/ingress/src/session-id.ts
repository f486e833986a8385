import { pooledRandom } from '@mailbus/queue';

/**
 * A session id as smtp-server makes it: 80 random bits, 16 base-32 characters,
 * drawn from a pool of random bytes (smtp-server's own crypto.randomBytes call
 * per connection was 1.5 % of ingress CPU with one connection per message).
 */
export function newSessionId(): string {
  return (
    pooledRandom(5).toString(32).padStart(8, '0') + pooledRandom(5).toString(32).padStart(8, '0')
  );
}
