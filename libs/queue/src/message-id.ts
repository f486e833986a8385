import { randomFillSync } from 'node:crypto';

// Random bytes drawn 4 KiB at a time: one call into the CSPRNG per few hundred
// ids, not one per message or session (it showed up in the ingress profile).
const pool = Buffer.alloc(4096);
let used = pool.length;

/** A random unsigned integer of `bytes` (1 to 6) bytes, from the pool. */
export function pooledRandom(bytes: number): number {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const r = pool.readUIntBE(used, bytes);
  used += bytes;
  return r;
}

/**
 * A queue id like Postfix's: time-ordered, unique across nodes without
 * coordination (48 bits of time in ms + 46 random bits), 18 characters,
 * [0-9A-Z].
 */
export function newQueueId(now = Date.now()): string {
  const t = now.toString(36).toUpperCase().padStart(9, '0');
  const r = pooledRandom(6).toString(36).toUpperCase().padStart(10, '0').slice(-9);
  return `${t}${r}`;
}
