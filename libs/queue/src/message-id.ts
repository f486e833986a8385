import { randomFillSync } from 'node:crypto';

// Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 682 ids,
// not one per message (it showed up in the ingress profile).
const pool = Buffer.alloc(4096);
let used = pool.length;

function random48(): number {
  if (used + 6 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const r = pool.readUIntBE(used, 6);
  used += 6;
  return r;
}

/**
 * A queue id like Postfix's: time-ordered, unique across nodes without
 * coordination (48 bits of time in ms + 46 random bits), 18 characters,
 * [0-9A-Z].
 */
export function newQueueId(now = Date.now()): string {
  const t = now.toString(36).toUpperCase().padStart(9, '0');
  const r = random48().toString(36).toUpperCase().padStart(10, '0').slice(-9);
  return `${t}${r}`;
}
