import { createHash, timingSafeEqual } from 'node:crypto';

/*
 * CRAM-MD5 (RFC 2195) without the password: the response is
 * HMAC-MD5(password, challenge), and HMAC-MD5 only ever uses the password
 * through the MD5 states after its first block, key XOR ipad and key XOR opad
 * (RFC 2104). The users file keeps those two states (as Dovecot's CRAM-MD5
 * scheme does): no plaintext, yet the server can check a response. Node's
 * crypto cannot resume MD5 from a state, hence the compression function here.
 */

const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const T = Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0,
);
const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/** MD5's compression function: one 64-byte block into the state. */
function compress(state: number[], block: Buffer, off: number): void {
  let [a, b, c, d] = state as [number, number, number, number];
  for (let i = 0; i < 64; i++) {
    const round = i >> 4;
    const f =
      round === 0
        ? (b & c) | (~b & d)
        : round === 1
          ? (d & b) | (~d & c)
          : round === 2
            ? b ^ c ^ d
            : c ^ (b | ~d);
    const g =
      round === 0
        ? i
        : round === 1
          ? (5 * i + 1) % 16
          : round === 2
            ? (3 * i + 5) % 16
            : (7 * i) % 16;
    const s = SHIFTS[round * 4 + (i % 4)] as number;
    const x = (a + f + (T[i] as number) + block.readUInt32LE(off + g * 4)) >>> 0;
    [a, d, c, b] = [d, c, b, (b + ((x << s) | (x >>> (32 - s)))) >>> 0];
  }
  state[0] = ((state[0] as number) + a) >>> 0;
  state[1] = ((state[1] as number) + b) >>> 0;
  state[2] = ((state[2] as number) + c) >>> 0;
  state[3] = ((state[3] as number) + d) >>> 0;
}

/** MD5 of (the 64 bytes behind `state`) + data. */
export function md5Resume(state: readonly number[], data: Buffer): Buffer {
  const padded = Buffer.alloc((data.length + 9 + 63) & ~63);
  data.copy(padded);
  padded[data.length] = 0x80;
  padded.writeBigUInt64LE(BigInt(64 + data.length) * 8n, padded.length - 8);
  const st = [...state];
  for (let off = 0; off < padded.length; off += 64) compress(st, padded, off);
  const out = Buffer.alloc(16);
  st.forEach((w, i) => out.writeUInt32LE(w, i * 4));
  return out;
}

/** The users-file secret for CRAM-MD5: `$cram-md5$` and the inner and outer HMAC-MD5 states, hex. */
export function cramMd5Secret(password: string): string {
  let key = Buffer.from(password, 'utf8');
  if (key.length > 64) key = createHash('md5').update(key).digest(); // RFC 2104: long keys are hashed first
  const pad = (byte: number) => {
    const block = Buffer.alloc(64, byte);
    for (let i = 0; i < key.length; i++) block[i] = (key[i] as number) ^ byte;
    const st = [...INIT];
    compress(st, block, 0);
    return st.map((w) => w.toString(16).padStart(8, '0')).join('');
  };
  return `$cram-md5$${pad(0x36)}${pad(0x5c)}`;
}

/** Whether `response` (hex, as the client sent it) is HMAC-MD5(password, challenge) for this secret. */
export function verifyCramMd5(secret: string, challenge: string, response: string): boolean {
  const m = /^\$cram-md5\$([0-9a-f]{32})([0-9a-f]{32})$/.exec(secret);
  if (!m) return false;
  const words = (hex: string) =>
    Array.from({ length: 4 }, (_, i) => parseInt(hex.slice(i * 8, i * 8 + 8), 16));
  const inner = md5Resume(words(m[1] as string), Buffer.from(challenge, 'utf8'));
  const expected = Buffer.from(md5Resume(words(m[2] as string), inner).toString('hex'));
  const got = Buffer.from(response.toLowerCase());
  return got.length === expected.length && timingSafeEqual(got, expected);
}
